# Shared by ./shards: skip `dotnet build` when no source changed since the last successful build. Sourced, not run.
#
# The sources: *.cs *.csproj *.props *.targets *.json under src/ silos/ client/ (their bin/ and obj/ left out), and
# Directory.*.props, Directory.*.targets, global.json and NuGet.config at the root. A build leaves a stamp file that
# holds the checksum of their list of paths; they count as changed when one of them is newer than the stamp (git
# gives the files it checks out the current time, so a pull or a checkout counts too) or when the list differs (a
# file added, removed or renamed, whatever its time).

# The source files of ROOT, one path a line; with NEWER_THAN, only those modified after that file.
shards_source_files() {
  local root="$1" newer=() dirs=() dir
  [ -z "${2:-}" ] || newer=(-newer "$2")
  for dir in src silos client; do
    [ -d "$root/$dir" ] && dirs+=("$root/$dir")
  done
  [ "${#dirs[@]}" -eq 0 ] || find "${dirs[@]}" \( -name bin -o -name obj \) -prune -o -type f "${newer[@]}" \
    \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.targets' -o -name '*.json' \) -print
  find "$root" -maxdepth 1 -type f "${newer[@]}" \
    \( -name 'Directory.*.props' -o -name 'Directory.*.targets' -o -name global.json -o -iname nuget.config \) -print
}

# The checksum of ROOT's list of source files (changes when one is added, removed or renamed).
shards_source_list_checksum() {
  shards_source_files "$1" | LC_ALL=C sort | cksum
}

# True (0) when ROOT's sources changed since STAMP was written, or when STAMP is missing.
shards_sources_changed() {
  local root="$1" stamp="$2"
  [ -f "$stamp" ] || return 0
  [ -z "$(shards_source_files "$root" "$stamp" | head -1)" ] || return 0
  [ "$(shards_source_list_checksum "$root")" != "$(cat "$stamp")" ]
}

# Builds PROJECT into OUT (needs shards_fail) unless ROOT's sources are unchanged since the last build into OUT. The
# stamp's time is taken before the build starts, so that a file saved during the build makes the next call build again.
shards_build_if_changed() {
  local root="$1" project="$2" out="$3"
  local stamp="$out/.sources-stamp"
  if [ -f "$out/shards.dll" ] && ! shards_sources_changed "$root" "$stamp"; then
    return 0
  fi
  mkdir -p "$out"
  local next="$stamp.next" build_log
  shards_source_list_checksum "$root" >"$next"
  if ! build_log=$(dotnet build "$project" -c Release -o "$out" --nologo -v quiet 2>&1); then
    rm -f "$next"
    echo "$build_log" >&2
    shards_fail "the build failed (output above)."
  fi
  mv -f "$next" "$stamp"
}
