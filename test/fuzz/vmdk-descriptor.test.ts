import { fuzzTest } from './ci.js';

fuzzTest('vmdk-descriptor', 300);
