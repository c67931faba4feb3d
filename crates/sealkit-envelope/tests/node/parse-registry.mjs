// Reads key registry JSON the way SPEC.md section 3 describes the reference's parser, leaving
// every JSON and object-order question to the JavaScript engine itself: JSON.parse (a repeated
// name keeps its first position and takes its last value), Object.entries (array-index names
// first, ascending, then the rest in insertion order), and assignment into a plain object for the
// trimmed ids. An independent check of the Rust parser's model of those rules.
//
// stdin: JSON array of registry texts.
// stdout: JSON array, per text {"activeKeyId": string|null, "keys": [[id, pem], ...]}.
import { readFileSync } from 'node:fs';

function parseRegistry(text) {
  const parsed = JSON.parse(text);
  const active =
    typeof parsed.activeKeyId === 'string' && parsed.activeKeyId.trim() !== ''
      ? parsed.activeKeyId.trim()
      : null;
  const nestedKeys = parsed.keys;
  const nested = nestedKeys !== null && typeof nestedKeys === 'object' && !Array.isArray(nestedKeys);
  const source = nested ? nestedKeys : parsed;
  const keys = {};
  for (const [name, value] of Object.entries(source)) {
    if (!nested && (name === 'activeKeyId' || name === 'keys')) continue;
    if (typeof value !== 'string') continue;
    const id = name.trim();
    const pem = value.trim();
    if (id === '' || pem === '') continue;
    keys[id] = pem;
  }
  return { activeKeyId: active, keys: Object.entries(keys) };
}

const texts = JSON.parse(readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify(texts.map(parseRegistry)));
