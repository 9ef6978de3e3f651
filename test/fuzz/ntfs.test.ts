import { fuzzTest } from './ci.js';

fuzzTest('ntfs', 80);
