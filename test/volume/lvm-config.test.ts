import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigSyntaxError, parseConfig } from '../../volume/lvm-config.js';

test('lvm-config: values, nested sections, arrays, comments and escapes', () => {
  const root = parseConfig(`# a comment line
contents = "Text Format Volume Group"	# trailing comment
version = 1
vg-1.x {
  id = "abc"
  seqno = 18446744073709551615
  ratio = 0.5
  status = ["READ", "WRITE",
            "VISIBLE",]
  empty = []
  quoted = "say \\"hi\\" \\\\ # not a comment"
  single = 'no \\escape'
  physical_volumes {
    pv0 { pe_start = 2048 }
  }
}
`);
  assert.equal(root.values.get('contents'), 'Text Format Volume Group');
  assert.equal(root.values.get('version'), 1n);
  const vg = root.sections.get('vg-1.x')!;
  assert.equal(vg.values.get('seqno'), 18446744073709551615n);
  assert.equal(vg.values.get('ratio'), 0.5);
  assert.deepEqual(vg.values.get('status'), ['READ', 'WRITE', 'VISIBLE']);
  assert.deepEqual(vg.values.get('empty'), []);
  assert.equal(vg.values.get('quoted'), 'say "hi" \\ # not a comment');
  assert.equal(vg.values.get('single'), 'no \\escape');
  assert.equal(vg.sections.get('physical_volumes')!.sections.get('pv0')!.values.get('pe_start'), 2048n);
});

test('lvm-config: syntax errors name the line', () => {
  const cases: [string, RegExp][] = [
    ['a = 1\nb {\n c = 2\n', /^line 4: section "b" is not closed$/],
    ['a = 1\n\nb = "open\n\n', /^line 3: unterminated string$/],
    ['a = [1, 2\nb = 3', /^line 2: expected "," or "]" in an array, found "b"$/],
    ['a 1', /^line 1: expected "=" or "{" after "a"$/],
    ['a = }', /^line 1: expected a value, found "}"$/],
    ['a = 1 }', /^line 1: unexpected "}"$/],
    ['a = [[1]]', /^line 1: expected a value, found "\["$/],
    // Found by bench/fuzz.ts: a string token quoted raw made a message of many lines.
    ['id = "x"\n"two\nlines" "y"', /^line 3: expected "=" or "{" after "two\\nlines"$/],
    [`a = [1 "${'long '.repeat(20)}"]`, /^line 1: expected "," or "\]" in an array, found "(long ){8}…"$/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseConfig(text), (e: Error) => e instanceof ConfigSyntaxError && message.test(e.message), text);
  }
});

test('lvm-config: nesting is bounded, so hostile text cannot exhaust the stack', () => {
  const deep = 'a {'.repeat(100000);
  assert.throws(() => parseConfig(deep), /sections nested deeper than 32/);
});
