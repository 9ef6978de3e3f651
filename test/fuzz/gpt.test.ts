import { fuzzTest } from './ci.js';

fuzzTest('gpt', 80);
