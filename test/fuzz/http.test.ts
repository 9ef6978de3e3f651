import { fuzzTest } from './ci.js';

fuzzTest('http', 60);
