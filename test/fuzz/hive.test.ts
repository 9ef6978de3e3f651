import { fuzzTest } from './ci.js';

fuzzTest('hive', 80);
