// har_validate.js FILE.har — validate a HAR file with Debian's third-party
// har-validator (node-har-validator, JSON Schema of HAR 1.2 by ahmadnassri).
// Exit 0 when valid; 1 with the schema errors when not; 77 when the
// validator is not installed.
let v;
try { v = require('har-validator'); } catch (e) { console.error('har-validator not installed'); process.exit(77); }
const fs = require('fs');
const har = JSON.parse(fs.readFileSync(process.argv[2]));
v.har(har).then(() => { console.log('valid'); })
  .catch((e) => { console.error(JSON.stringify(e.errors || e.message, null, 1)); process.exit(1); });
