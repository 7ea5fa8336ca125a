#!/usr/bin/env bash
# Builds dist/ja4_<version>_amd64.deb and/or dist/ja4-<version>.x86_64.rpm.
# Usage: scripts/package.sh deb|rpm|all
# Needs: the .NET SDK, jq, dpkg-deb (deb), rpmbuild (rpm), .cache/chdb/libchdb.so
# (make chdb) and native/mod_reqin_log/.libs/mod_reqin_log.so (make native).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
what="${1:-all}"
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)
out="$root/dist"
work="$root/dist/work"
chdb="$root/.cache/chdb/libchdb.so"
modso="$root/native/mod_reqin_log/.libs/mod_reqin_log.so"
apache_load="$root/native/mod_reqin_log/reqin_log.load"
apache_conf="$root/native/mod_reqin_log/reqin_log.conf"
for f in "$chdb" "$modso" "$apache_load" "$apache_conf"; do
  [ -f "$f" ] || { echo "package: missing $f (run make chdb native first)" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "package: missing jq (apt-get install -y jq)" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work/publish" "$out"
echo "publishing self-contained executable..." >&2
scripts/publish.sh "$work/publish"

# stage <root> <apache layout: deb|rpm>
stage() {
  local r="$1" layout="$2"
  install -d "$r/usr/lib/ja4" "$r/usr/bin" "$r/etc/ja4" "$r/usr/share/doc/ja4"
  cp -a "$work/publish/." "$r/usr/lib/ja4/"
  # ja4 status, ja4 sql... find the installed configuration by default.
  ln -sfn /etc/ja4/appsettings.json "$r/usr/lib/ja4/appsettings.json"
  install -m 0644 "$chdb" "$r/usr/lib/ja4/libchdb.so"
  ln -sf /usr/lib/ja4/ja4 "$r/usr/bin/ja4"
  local group=www-data
  [ "$layout" = rpm ] && group=apache
  jq -s '.[0] * .[1]' appsettings.json packaging/etc/installed-overrides.json \
    | jq --arg g "$group" '.Modules.HttpIngest.SocketGroup = $g' > "$r/etc/ja4/appsettings.json"
  cp -a README.md docs "$r/usr/share/doc/ja4/"
  install -m 0644 LICENSE THIRD-PARTY-NOTICES.md "$r/usr/share/doc/ja4/"
  if [ "$layout" = deb ]; then
    install -D -m 0644 packaging/systemd/ja4.service "$r/lib/systemd/system/ja4.service"
    install -D -m 0644 "$modso" "$r/usr/lib/apache2/modules/mod_reqin_log.so"
    install -D -m 0644 "$apache_load" "$r/etc/apache2/mods-available/reqin_log.load"
    install -D -m 0644 "$apache_conf" "$r/etc/apache2/mods-available/reqin_log.conf"
  else
    install -D -m 0644 packaging/systemd/ja4.service "$r/usr/lib/systemd/system/ja4.service"
    sed -i 's/^SupplementaryGroups=www-data/SupplementaryGroups=apache/' "$r/usr/lib/systemd/system/ja4.service"
    install -D -m 0755 "$modso" "$r/usr/lib64/httpd/modules/mod_reqin_log.so"
    install -d "$r/etc/httpd/conf.modules.d"
    { sed 's:/usr/lib/apache2/modules/:modules/:' "$apache_load"; cat "$apache_conf"; } \
      > "$r/etc/httpd/conf.modules.d/50-reqin_log.conf.tmp"
    mv "$r/etc/httpd/conf.modules.d/50-reqin_log.conf.tmp" "$r/etc/httpd/conf.modules.d/50-reqin_log.conf"
  fi
}

if [ "$what" = deb ] || [ "$what" = all ]; then
  r="$work/deb"
  stage "$r" deb
  install -d "$r/DEBIAN"
  size=$(du -sk "$r" | cut -f1)
  sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" packaging/deb/control.in > "$r/DEBIAN/control"
  install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$r/DEBIAN/"
  printf '/etc/ja4/appsettings.json\n/etc/apache2/mods-available/reqin_log.conf\n' > "$r/DEBIAN/conffiles"
  dpkg-deb -Zzstd -z3 --root-owner-group --build "$r" "$out/ja4_${version}_amd64.deb" >/dev/null
  echo "built dist/ja4_${version}_amd64.deb" >&2
fi

if [ "$what" = rpm ] || [ "$what" = all ]; then
  top="$work/rpmbuild"
  mkdir -p "$top"/{SOURCES,SPECS,BUILD,RPMS,SRPMS,BUILDROOT}
  stage "$top/SOURCES/root" rpm
  apache_files='/usr/lib64/httpd/modules/mod_reqin_log.so
%config(noreplace) /etc/httpd/conf.modules.d/50-reqin_log.conf'
  sed -e "s/@VERSION@/$version/" packaging/rpm/ja4.spec.in \
    | awk -v files="$apache_files" '{ if ($0 == "@APACHE_FILES@") print files; else print }' > "$top/SPECS/ja4.spec"
  rpmbuild --define "_topdir $top" --define "_binary_payload w3.zstdio" -bb "$top/SPECS/ja4.spec" >/dev/null
  cp "$top/RPMS/x86_64/ja4-${version}-1.x86_64.rpm" "$out/ja4-${version}.x86_64.rpm"
  echo "built dist/ja4-${version}.x86_64.rpm" >&2
fi
