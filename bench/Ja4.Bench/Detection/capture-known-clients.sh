#!/usr/bin/env bash
# Rebuilds the fingerprints behind data/known-fingerprints.csv: starts a local TLS server, runs each
# client installed here against it under tcpdump, and prints name<TAB>JA4<TAB>JA3<TAB>ALPN for the
# first ClientHello of each capture (fingerprinted by Ja4.Modules.Fingerprints through ja4-bench).
# Usage: capture-known-clients.sh REPO_ROOT [WORKDIR]   (root: tcpdump on lo)
set -u
root="${1:?repo root}"
work="${2:-$(mktemp -d)}"
mkdir -p "$work"
cd "$work"
dotnet build "$root/bench/Ja4.Bench/Ja4.Bench.csproj" -c Release -o "$work/bench" >/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 -subj /CN=localhost 2>/dev/null
openssl s_server -accept 127.0.0.1:8443 -cert cert.pem -key key.pem -www -alpn h2,http/1.1 >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
sleep 1
url=https://localhost:8443/
run() {
  local name=$1; shift
  command -v "$1" >/dev/null || { echo "skip $name: $1 not installed" >&2; return; }
  tcpdump -i lo -w "$work/$name.pcap" -U 'tcp port 8443' >/dev/null 2>&1 &
  local dump=$!
  sleep 1
  timeout 30 "$@" >/dev/null 2>&1
  sleep 1
  kill $dump; wait $dump 2>/dev/null
  printf '%s\t%s\n' "$name" "$(tshark -r "$work/$name.pcap" -Y 'tls.handshake.type==1' -T fields -e tcp.payload 2>/dev/null | head -1)" >> "$work/hellos.tsv"
}
: > "$work/hellos.tsv"
insecure_py="import ssl,urllib.request as u; c=ssl.create_default_context(); c.check_hostname=False; c.verify_mode=ssl.CERT_NONE; u.urlopen('$url',context=c).read()"
run curl curl -sk "$url"
run wget wget -q --no-check-certificate -O /dev/null "$url"
run python3 /usr/bin/python3 -c "$insecure_py"
run openssl bash -c "echo | openssl s_client -connect 127.0.0.1:8443 -servername localhost"
run node node -e "require('https').get('$url',{rejectUnauthorized:false},r=>{r.resume();r.on('end',()=>process.exit(0))})"
cat > J.java <<'JAVA'
import java.net.URI; import java.net.http.*; import java.security.cert.X509Certificate; import javax.net.ssl.*;
public class J { public static void main(String[] a) throws Exception {
  TrustManager[] t = { new X509TrustManager() { public void checkClientTrusted(X509Certificate[] c, String s) {}
    public void checkServerTrusted(X509Certificate[] c, String s) {} public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; } } };
  SSLContext s = SSLContext.getInstance("TLS"); s.init(null, t, null);
  try { HttpClient.newBuilder().sslContext(s).build().send(HttpRequest.newBuilder(URI.create(a[0])).build(), HttpResponse.BodyHandlers.ofString()); } catch (Exception e) {}
} }
JAVA
run java java -Djdk.internal.httpclient.disableHostnameVerification=true J.java "$url"
run chromium /usr/lib/chromium/chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --ignore-certificate-errors --dump-dom "$url"
mkdir -p dn && cat > dn/dn.csproj <<'PROJ'
<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><ImplicitUsings>enable</ImplicitUsings></PropertyGroup></Project>
PROJ
cat > dn/Program.cs <<'CS'
using var c = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true });
try { await c.GetStringAsync(args[0]); } catch (HttpRequestException) { }
CS
dotnet build dn/dn.csproj -c Release -o dn/out >/dev/null && run dotnet dotnet dn/out/dn.dll "$url"
dotnet "$work/bench/Ja4.Bench.dll" fingerprint-hellos < "$work/hellos.tsv"
