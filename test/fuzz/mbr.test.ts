import { fuzzTest } from './ci.js';

fuzzTest('mbr', 80);
