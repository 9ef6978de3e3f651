import { fuzzTest } from './ci.js';

fuzzTest('ova-manifest', 300);
