#!/usr/bin/env bash
# Makes Debian's headless Chromium available for the web page's browser test (tests/Embeddings.Tests/Server/
# BrowserPageTests.cs drives it over the DevTools protocol; nothing is downloaded from elsewhere).
# Never fails the caller: when it cannot be installed it says why, and the browser test is then skipped with that
# reason. Idempotent: does nothing when a chromium is already there.
set -uo pipefail

say() { echo "setup-chromium: $*"; }
give_up() { say "$* - the browser test will be skipped"; exit 0; }

if [ -n "${EMBEDDINGS_CHROMIUM:-}" ] && [ -x "$EMBEDDINGS_CHROMIUM" ]; then exit 0; fi
for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -x "$candidate" ]; then exit 0; fi
done

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  give_up "not root and no password-less sudo, so chromium cannot be installed"
fi
command -v apt-get >/dev/null || give_up "no apt-get to install chromium"
say "installing chromium"
apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -qq)
"${apt[@]}" update >/dev/null || give_up "apt-get update failed"
"${apt[@]}" install -y --no-install-recommends chromium fonts-dejavu-core >/dev/null || give_up "apt-get install chromium failed"
[ -x /usr/bin/chromium ] || give_up "chromium is still missing after the install"
say "chromium ready ($(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium))"
