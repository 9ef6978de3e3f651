import { fuzzTest } from './ci.js';

fuzzTest('lvm', 80);
