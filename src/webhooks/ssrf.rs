//! The SSRF guard. Webhook URLs are supplied by admins but fetched by the server, inside the
//! network: without a guard, an endpoint could point at the cloud metadata service or an
//! internal admin port. Checked at registration and again at send time after DNS resolution
//! (a name can be re-pointed after registration); the HTTP client's resolver enforces the same
//! rule on the addresses it actually connects to, so a rebinding name cannot slip through.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipnet::IpNet;
use reqwest::Url;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("not a valid absolute URL")]
    Unparseable,
    #[error("scheme {0:?} is not allowed; use http or https")]
    Scheme(String),
    #[error("the URL must not carry credentials")]
    Credentials,
    #[error("the URL has no host")]
    NoHost,
    #[error(
        "{host} resolves to {ip}, an internal address (loopback, private, link-local, CGNAT or metadata, or an IPv6 form of one)"
    )]
    Internal { host: String, ip: IpAddr },
    #[error("{host} does not resolve: {reason}")]
    Unresolvable { host: String, reason: String },
}

/// Which addresses webhooks may reach: public ones, plus an explicit allow-list.
///
/// The allow-list is matched against the literal address and, for an IPv6 address that embeds
/// an IPv4 one (see [`embedded_v4`]), against every embedded IPv4 address too: allowing
/// `127.0.0.1/32` also allows `[::ffff:127.0.0.1]` or `[2002:7f00:1::]`, which name (or claim
/// to reach) the same IPv4 host. An allow-listed IPv6 range matches IPv6 literals only.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    allow: Vec<IpNet>,
}

impl Guard {
    pub fn new(allow: Vec<IpNet>) -> Self {
        Self { allow }
    }

    fn allowed(&self, ip: IpAddr) -> bool {
        self.allow.iter().any(|net| net.contains(&ip))
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        if self.allowed(ip) {
            return true;
        }
        match ip {
            IpAddr::V4(v4) => is_public_v4(v4),
            IpAddr::V6(v6) => match classify_v6(v6) {
                V6::Embeds(v4s) => v4s.iter().all(|&v4| self.allowed(IpAddr::V4(v4)) || is_public_v4(v4)),
                V6::Internal => false,
                V6::Public => true,
            },
        }
    }

    /// Syntax: an absolute http(s) URL with a host and no credentials.
    pub fn parse(&self, raw: &str) -> Result<Url, Refusal> {
        let url = Url::parse(raw).map_err(|_| Refusal::Unparseable)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refusal::Scheme(url.scheme().to_owned()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refusal::Credentials);
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(Refusal::NoHost);
        }
        Ok(url)
    }

    /// Syntax, then every address the host resolves to.
    pub async fn check(&self, raw: &str) -> Result<Url, Refusal> {
        let url = self.parse(raw)?;
        let host = url.host_str().unwrap_or_default();
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<IpAddr> = match bare.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => resolve(bare).await?.into_iter().map(|a| a.ip()).collect(),
        };
        for ip in addrs {
            if !self.permits(ip) {
                return Err(Refusal::Internal {
                    host: host.to_owned(),
                    ip,
                });
            }
        }
        Ok(url)
    }
}

async fn resolve(host: &str) -> Result<Vec<SocketAddr>, Refusal> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|e| Refusal::Unresolvable {
            host: host.to_owned(),
            reason: e.to_string(),
        })?
        .collect();
    if addrs.is_empty() {
        return Err(Refusal::Unresolvable {
            host: host.to_owned(),
            reason: "no addresses".into(),
        });
    }
    Ok(addrs)
}

/// Whether an address is on the public internet. An IPv6 address that embeds an IPv4 address
/// is public only if every IPv4 address it embeds is.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match classify_v6(v6) {
            V6::Embeds(v4s) => v4s.into_iter().all(is_public_v4),
            V6::Internal => false,
            V6::Public => true,
        },
    }
}

/// The IPv4 addresses an IPv6 address carries, by every embedding a packet may be translated or
/// tunnelled through (so `[::7f00:1]` cannot stand in for 127.0.0.1):
/// - IPv4-mapped `::ffff:0:0/96` and IPv4-compatible `::/96` (RFC 4291);
/// - IPv4-translated `::ffff:0:0:0/96` (RFC 2765);
/// - NAT64 with the well-known prefix `64:ff9b::/96` (RFC 6052);
/// - 6to4 `2002::/16`, the IPv4 address in bits 16..48 (RFC 3056);
/// - Teredo `2001::/32`: the server in bits 32..64, the client as the bitwise NOT of the last 32
///   bits (RFC 4380); both are returned;
/// - ISATAP interface identifiers `…:0000:5efe:a.b.c.d` and `…:0200:5efe:a.b.c.d` (RFC 5214),
///   under any prefix (the `u`/`g` bits of the first word vary).
///
/// The local-use NAT64 prefix `64:ff9b:1::/48` (RFC 8215) may place the IPv4 address at several
/// offsets and is never globally routed; [`is_public`] refuses it whole instead.
pub fn embedded_v4(ip: Ipv6Addr) -> Vec<Ipv4Addr> {
    let s = ip.segments();
    let o = ip.octets();
    let last = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    if s[..5] == [0, 0, 0, 0, 0] && (s[5] == 0 || s[5] == 0xffff) {
        return vec![last]; // compatible (including :: and ::1) or mapped
    }
    if s[..4] == [0, 0, 0, 0] && s[4] == 0xffff && s[5] == 0 {
        return vec![last]; // translated
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return vec![last]; // NAT64, well-known prefix
    }
    if s[0] == 0x2002 {
        return vec![Ipv4Addr::new(o[2], o[3], o[4], o[5])]; // 6to4
    }
    if s[0] == 0x2001 && s[1] == 0 {
        let server = Ipv4Addr::new(o[4], o[5], o[6], o[7]);
        let client = Ipv4Addr::from(!u32::from(last));
        return vec![server, client]; // Teredo
    }
    if (s[4] & 0xfcff) == 0 && s[5] == 0x5efe {
        return vec![last]; // ISATAP
    }
    Vec::new()
}

/// What an IPv6 address is, for the guard.
enum V6 {
    /// It carries IPv4 addresses: judge those.
    Embeds(Vec<Ipv4Addr>),
    Internal,
    Public,
}

fn classify_v6(ip: Ipv6Addr) -> V6 {
    let s = ip.segments();
    let isatap = (s[4] & 0xfcff) == 0 && s[5] == 0x5efe;
    let v4s = embedded_v4(ip);
    if !v4s.is_empty() && !isatap {
        // The prefix is fixed by the embedding; only the IPv4 addresses matter.
        return V6::Embeds(v4s);
    }
    // Only global unicast (2000::/3) is public, minus its special-purpose blocks. This also
    // refuses loopback, unspecified, multicast, unique-local fc00::/7, link-local fe80::/10,
    // site-local fec0::/10, discard-only 100::/64 and the local-use NAT64 prefix 64:ff9b:1::/48.
    let global_unicast = (s[0] & 0xe000) == 0x2000;
    // 2001::/23 is the IETF protocol block (ORCHID, benchmarking, ...), 2001:db8::/32 and
    // 3fff::/20 are for documentation, 5f00::/16 is for SRv6 SIDs.
    let ietf_or_documentation = s[0] == 0x2001 && (s[1] < 0x0200 || s[1] == 0x0db8);
    let special = ietf_or_documentation || (s[0] == 0x3fff && s[1] < 0x1000) || s[0] == 0x5f00;
    match (global_unicast && !special, isatap) {
        (false, _) => V6::Internal,
        // An ISATAP address under a public prefix: its IPv4 part must be public too.
        (true, true) => V6::Embeds(v4s),
        (true, false) => V6::Public,
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16, including the metadata service 169.254.169.254
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240)
}

/// The HTTP client's resolver: names resolving to any internal address are refused at connect time.
pub struct GuardedResolver(pub Guard);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = resolve(&host).await?;
            if let Some(bad) = addrs.iter().find(|a| !guard.permits(a.ip())) {
                return Err(Box::new(Refusal::Internal { host, ip: bad.ip() }) as _);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn internal_addresses_and_odd_schemes_are_refused() {
        let guard = Guard::default();
        for url in [
            "http://10.0.0.1/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]:8080/",
            "http://127.0.0.1/",
            "http://192.168.1.10/",
            "http://172.16.0.5/",
            "http://100.64.0.1/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:10.0.0.1]/",
            "http://0.0.0.0/",
            "http://localhost/",
        ] {
            assert!(matches!(guard.check(url).await, Err(Refusal::Internal { .. })), "{url}");
        }
        assert_eq!(
            guard.check("file:///etc/passwd").await,
            Err(Refusal::Scheme("file".into()))
        );
        assert_eq!(guard.check("gopher://x/").await, Err(Refusal::Scheme("gopher".into())));
        assert_eq!(guard.check("http://u:p@8.8.8.8/").await, Err(Refusal::Credentials));
        assert!(guard.check("https://8.8.8.8/hook").await.is_ok());
        assert!(guard.check("https://[2606:4700::1111]/").await.is_ok());
    }

    /// Every IPv6 form of an internal IPv4 address the independent test round found accepted,
    /// and the other embeddings of the same class.
    const INTERNAL_V4_IN_V6: &[&str] = &[
        "::7f00:1",               // IPv4-compatible 127.0.0.1
        "::a9fe:a9fe",            // IPv4-compatible 169.254.169.254
        "::a00:1",                // IPv4-compatible 10.0.0.1
        "::ffff:7f00:1",          // IPv4-mapped 127.0.0.1
        "::ffff:169.254.169.254", // IPv4-mapped metadata
        "::ffff:0:a9fe:a9fe",     // IPv4-translated 169.254.169.254
        "::ffff:0:7f00:1",        // IPv4-translated 127.0.0.1
        "64:ff9b::a9fe:a9fe",     // NAT64 well-known prefix
        "64:ff9b::10.0.0.1",
        "64:ff9b:1::a9fe:a9fe",                 // local-use NAT64 prefix
        "64:ff9b:1:a9fe:a9:fe00::",             // local-use NAT64, /48 layout
        "2002:a9fe:a9fe::",                     // 6to4 169.254.169.254
        "2002:7f00:1::",                        // 6to4 127.0.0.1
        "2002:a00:1::",                         // 6to4 10.0.0.1
        "2002:c0a8:101::1",                     // 6to4 192.168.1.1
        "2001:0:4136:e378::5601:5601",          // Teredo, client 169.254.169.254
        "2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo, client 127.0.0.1
        "2001:0:a00:1:8000:63bf:f7f7:f7f7",     // Teredo, server 10.0.0.1
        "2001:4860::5efe:a9fe:a9fe",            // ISATAP, 169.254.169.254
        "2001:4860::200:5efe:7f00:1",           // ISATAP, 127.0.0.1
        "fe80::5efe:808:808",                   // ISATAP, link-local prefix
    ];

    #[test]
    fn ipv6_forms_of_internal_ipv4_addresses_are_internal() {
        for raw in INTERNAL_V4_IN_V6 {
            let ip: IpAddr = raw.parse().unwrap();
            assert!(!is_public(ip), "{raw}");
            assert!(!Guard::default().permits(ip), "{raw}");
        }
    }

    #[test]
    fn embedded_addresses_are_decoded() {
        let v4 = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        let v6 = |s: &str| s.parse::<Ipv6Addr>().unwrap();
        assert_eq!(embedded_v4(v6("::7f00:1")), [v4("127.0.0.1")]);
        assert_eq!(embedded_v4(v6("::ffff:0:a9fe:a9fe")), [v4("169.254.169.254")]);
        assert_eq!(embedded_v4(v6("64:ff9b::808:808")), [v4("8.8.8.8")]);
        assert_eq!(embedded_v4(v6("2002:a00:1::")), [v4("10.0.0.1")]);
        // RFC 4380's example: server 65.54.227.120, client 192.0.2.45.
        assert_eq!(
            embedded_v4(v6("2001:0:4136:e378:8000:63bf:3fff:fdd2")),
            [v4("65.54.227.120"), v4("192.0.2.45")]
        );
        assert_eq!(embedded_v4(v6("2001:db8::5efe:c000:22d")), [v4("192.0.2.45")]);
        assert!(embedded_v4(v6("2606:4700::1111")).is_empty());
    }

    #[test]
    fn ipv6_forms_of_public_ipv4_addresses_and_global_ipv6_stay_public() {
        for raw in [
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2001:0:4136:e378:8000:63bf:f7f7:f7f7", // Teredo, client 8.8.8.8
            "2001:4860::5efe:808:808",
            "2606:4700::1111",
            "2a00:1450:4001:80e::200e",
        ] {
            assert!(is_public(raw.parse().unwrap()), "{raw}");
        }
        for raw in [
            "2001:db8::1",
            "3fff::1",
            "100::1",
            "2001:2::1",
            "5f00::1",
            "ff02::1",
            "fec0::1",
            "::",
            "::1",
        ] {
            assert!(!is_public(raw.parse().unwrap()), "{raw}");
        }
    }

    #[tokio::test]
    async fn urls_with_ipv6_forms_of_internal_addresses_are_refused() {
        let guard = Guard::default();
        for raw in INTERNAL_V4_IN_V6 {
            let url = format!("http://[{raw}]:8080/hook");
            assert!(
                matches!(guard.check(&url).await, Err(Refusal::Internal { .. })),
                "{url}"
            );
        }
    }

    /// An allow-listed IPv4 range also admits the IPv6 forms that embed it, and nothing else.
    #[test]
    fn the_allow_list_matches_embedded_ipv4_addresses() {
        let guard = Guard::new(vec!["127.0.0.1/32".parse().unwrap()]);
        for raw in [
            "127.0.0.1",
            "::ffff:127.0.0.1",
            "::7f00:1",
            "2002:7f00:1::",
            "64:ff9b::7f00:1",
        ] {
            assert!(guard.permits(raw.parse().unwrap()), "{raw}");
        }
        for raw in [
            "127.0.0.2",
            "::1",
            "::a9fe:a9fe",
            "2002:a9fe:a9fe::",
            "64:ff9b:1::7f00:1",
        ] {
            assert!(!guard.permits(raw.parse().unwrap()), "{raw}");
        }
        // Teredo carries two addresses: both must pass.
        assert!(!guard.permits("2001:0:a00:1:8000:63bf:80ff:fffe".parse().unwrap()));
        let v6 = Guard::new(vec!["::1/128".parse().unwrap()]);
        assert!(v6.permits("::1".parse().unwrap()));
        assert!(!v6.permits("::ffff:127.0.0.1".parse().unwrap()));
    }

    #[tokio::test]
    async fn the_allow_list_opens_named_ranges_only() {
        let guard = Guard::new(vec!["127.0.0.1/32".parse().unwrap()]);
        assert!(guard.check("http://127.0.0.1:9999/hook").await.is_ok());
        assert!(guard.check("http://10.0.0.1/").await.is_err());
        assert!(guard.check("file:///etc/passwd").await.is_err());
    }
}
