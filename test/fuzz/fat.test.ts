import { fuzzTest } from './ci.js';

fuzzTest('fat', 80);
