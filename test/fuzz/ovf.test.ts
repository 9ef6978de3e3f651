import { fuzzTest } from './ci.js';

fuzzTest('ovf', 300);
