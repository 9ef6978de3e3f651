import { fuzzTest } from './ci.js';

fuzzTest('qcow2', 100);
