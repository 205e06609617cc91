// Runs before every npm script that loads TypeScript: an older Node cannot even load a .ts entry
// file (ERR_UNKNOWN_FILE_EXTENSION), so this file is plain JavaScript that any Node can parse,
// and it says what is wrong in one line instead.
var REQUIRED_MAJOR = 24;
var version = process.versions.node;
var major = Number(version.split('.')[0]);
if (!(major >= REQUIRED_MAJOR)) {
  process.stderr.write('cutover-bot needs Node ' + REQUIRED_MAJOR + ' or newer; this is ' + version + '\n');
  process.exit(1);
}
