import { fuzzTest } from './ci.js';

fuzzTest('ext4', 80);
