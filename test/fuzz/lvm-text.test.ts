import { fuzzTest } from './ci.js';

fuzzTest('lvm-text', 300);
