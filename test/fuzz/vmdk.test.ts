import { fuzzTest } from './ci.js';

fuzzTest('vmdk', 100);
