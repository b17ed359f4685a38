#!/usr/bin/env bash
# The emoji corpus's names: Debian's unicode-cldr-core (CLDR annotations, 36 XM3600 languages) where
# this runs as root with apt-get; elsewhere `study data emoji` falls back to the `emoji` package's
# 14 languages. Never fails the set-up.
cldr=/usr/share/unicode/cldr/common/annotations
fallback="the emoji corpus uses the emoji package's 14-language fallback"
if [ -d "$cldr" ]; then exit 0; fi
if dpkg-query -W -f='${Status}' unicode-cldr-core 2>/dev/null | grep -q "ok installed"; then
  echo "set-up: unicode-cldr-core is installed but has no $cldr; $fallback (or give --cldr DIR)"
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  if apt-get install -y -qq unicode-cldr-core >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq unicode-cldr-core >/dev/null 2>&1; }; then
    echo "set-up: installed unicode-cldr-core (CLDR emoji annotations for the emoji corpus, $cldr)"
    exit 0
  fi
  echo "set-up: could not install unicode-cldr-core with apt-get; $fallback"
else
  echo "set-up: no CLDR XML at $cldr (installing unicode-cldr-core needs root and apt-get); $fallback"
fi
exit 0
