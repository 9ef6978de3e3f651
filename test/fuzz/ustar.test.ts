import { fuzzTest } from './ci.js';

fuzzTest('ustar', 300);
