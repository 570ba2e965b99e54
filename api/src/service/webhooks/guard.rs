//! The SSRF guard: a webhook is a call our server makes to an address someone typed, so
//! that address must not be one of ours. Loopback, private, link-local (and the cloud
//! metadata address in it), CGNAT, multicast, documentation and reserved ranges are
//! refused, in IPv4 and IPv6, including the IPv6 forms that carry an IPv4 address
//! (mapped, compatible, NAT64, 6to4) — unless an operator lists the range in
//! `JEMBATAN_WEBHOOK_ALLOW_CIDRS` (an agency server on the office's network).
//!
//! Checked at registration and again at every delivery: delivery resolves the host
//! through `GuardedResolver`, and the connection goes to exactly the addresses it
//! approved, so a name that resolves to a public address when registered and to
//! 127.0.0.1 later (DNS rebinding) is refused then.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use reqwest::Url;

#[derive(Debug, Clone, Default)]
pub struct Guard {
    allowed: Arc<Vec<IpNet>>,
}

/// Why an address is refused.
pub fn refused_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, ..) => "a 'this network' address (0.0.0.0/8)",
        (10, ..) => "a private address (10.0.0.0/8)",
        (100, 64..=127, _) => "a carrier-grade NAT address (100.64.0.0/10)",
        (127, ..) => "a loopback address",
        (169, 254, _) => "a link-local address (169.254.0.0/16, incl. cloud metadata)",
        (172, 16..=31, _) => "a private address (172.16.0.0/12)",
        (192, 0, 0) => "an IETF protocol address (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (192, 88, 99) => "a 6to4 relay address (192.88.99.0/24)",
        (192, 168, _) => "a private address (192.168.0.0/16)",
        (198, 18..=19, _) => "a benchmarking address (198.18.0.0/15)",
        (224..=239, ..) => "a multicast address",
        (240..=255, ..) => "a reserved or broadcast address",
        _ => return None,
    })
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    // Forms that carry an IPv4 address are judged by that address.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return refused_v4(v4);
    }
    if s[0] == 0x0064 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        // NAT64 (64:ff9b::/96): the gateway would connect to the embedded address.
        let v4 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
        return refused_v4(v4);
    }
    if s[0] == 0x2002 {
        // 6to4 (2002::/16) embeds the IPv4 address of its relay.
        let v4 = Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8);
        if let Some(r) = refused_v4(v4) {
            return Some(r);
        }
    }
    Some(match s[0] {
        _ if ip.is_unspecified() => "the unspecified address",
        _ if ip.is_loopback() => "a loopback address",
        // ::/96, IPv4-compatible (deprecated), and the rest of ::/8 — never a public host.
        0 if s[1..6] == [0, 0, 0, 0, 0] => "an IPv4-compatible address",
        0x0100 if s[1..4] == [0, 0, 0] => "a discard-only address (100::/64)",
        0x2001 if s[1] == 0x0db8 => "a documentation address (2001:db8::/32)",
        0x2001 if s[1] < 0x0200 => "an IETF protocol address (2001::/23)",
        x if x & 0xfe00 == 0xfc00 => "a unique local address (fc00::/7, incl. cloud metadata)",
        x if x & 0xffc0 == 0xfe80 => "a link-local address (fe80::/10)",
        x if x & 0xffc0 == 0xfec0 => "a site-local address (fec0::/10)",
        x if x & 0xff00 == 0xff00 => "a multicast address",
        _ => return None,
    })
}

impl Guard {
    pub fn new(allowed: Vec<IpNet>) -> Self {
        Guard { allowed: Arc::new(allowed) }
    }

    /// Whether an operator listed this address.
    pub fn listed(&self, ip: IpAddr) -> bool {
        let canonical = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        self.allowed.iter().any(|n| n.contains(&ip) || n.contains(&canonical))
    }

    /// `Ok` when a webhook may be sent to `ip`.
    pub fn permits(&self, ip: IpAddr) -> Result<(), String> {
        if self.listed(ip) {
            return Ok(());
        }
        match refused_range(ip) {
            Some(why) => Err(format!("resolves to {ip}, {why}: webhooks are not sent there")),
            None => Ok(()),
        }
    }

    /// Checks a webhook address: its form, then every address its host resolves to now.
    /// `http` only to addresses an operator listed (a network of their own); elsewhere
    /// `https`, so the payload and signature are not readable on the way.
    pub async fn check_url(&self, raw: &str) -> Result<Url, String> {
        let url = parse(raw)?;
        let addrs = self.resolve(&url).await?;
        if url.scheme() == "http" && !addrs.iter().all(|a| self.listed(a.ip())) {
            return Err("must be https (http only to addresses listed in JEMBATAN_WEBHOOK_ALLOW_CIDRS)".into());
        }
        Ok(url)
    }

    /// Every address of the URL's host, each checked.
    pub async fn resolve(&self, url: &Url) -> Result<Vec<SocketAddr>, String> {
        let port = url.port_or_known_default().ok_or("has no port")?;
        let addrs: Vec<SocketAddr> = match url.host() {
            Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(ip.into(), port)],
            Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(ip.into(), port)],
            Some(url::Host::Domain(name)) => lookup(name, port).await?,
            None => return Err("has no host".into()),
        };
        for a in &addrs {
            self.permits(a.ip())?;
        }
        Ok(addrs)
    }
}

/// The form of a webhook address, before anything is resolved.
pub fn parse(raw: &str) -> Result<Url, String> {
    if raw.len() > 2048 {
        return Err("must be at most 2048 characters".into());
    }
    let url = Url::parse(raw).map_err(|e| format!("is not a URL ({e})"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err("must be an https:// address".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password (the signature authenticates us)".into());
    }
    if url.fragment().is_some() {
        return Err("must not have a #fragment".into());
    }
    if url.host().is_none() {
        return Err("has no host".into());
    }
    Ok(url)
}

async fn lookup(name: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    let found = tokio::time::timeout(Duration::from_secs(5), tokio::net::lookup_host((name, port)))
        .await
        .map_err(|_| format!("the name {name} did not resolve within 5 s"))?
        .map_err(|_| format!("the name {name} does not resolve"))?
        .collect::<Vec<_>>();
    if found.is_empty() {
        return Err(format!("the name {name} does not resolve"));
    }
    Ok(found)
}

/// reqwest's resolver for deliveries: the connection goes only to approved addresses.
pub struct GuardedResolver(pub Guard);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.0.clone();
        let name = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = lookup(&name, 0).await?;
            for a in &addrs {
                guard.permits(a.ip())?;
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(s: &str) -> bool {
        refused_range(s.parse().unwrap()).is_some()
    }

    #[test]
    fn internal_addresses_are_refused_in_every_form() {
        for a in [
            "127.0.0.1",
            "127.8.9.10",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "224.0.0.1",
            "255.255.255.255",
            "198.18.0.1",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "2002:a00:1::1",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            assert!(refused(a), "{a} must be refused");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for a in [
            "8.8.8.8",
            "103.10.20.30",
            "172.32.0.1",
            "100.128.0.1",
            "192.169.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(!refused(a), "{a} must pass");
        }
    }

    #[test]
    fn an_operator_may_open_a_range_and_its_mapped_form() {
        let g = Guard::new(vec!["10.20.0.0/16".parse().unwrap(), "127.0.0.1/32".parse().unwrap()]);
        assert!(g.permits("10.20.3.4".parse().unwrap()).is_ok());
        assert!(g.permits("::ffff:10.20.3.4".parse().unwrap()).is_ok());
        assert!(g.permits("127.0.0.1".parse().unwrap()).is_ok());
        assert!(g.permits("127.0.0.2".parse().unwrap()).is_err());
        assert!(g.permits("10.21.0.1".parse().unwrap()).is_err());
        assert!(g.permits("::1".parse().unwrap()).is_err());
    }

    #[test]
    fn addresses_of_the_wrong_form_are_refused_before_any_lookup() {
        for bad in ["ftp://example.go.id/x", "https://user:pw@example.go.id/", "not a url", "https://example.go.id/#x"]
        {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse("https://simpus.trenggalekkab.go.id/hooks/jembatan?x=1").is_ok());
    }

    #[tokio::test]
    async fn http_is_only_for_listed_addresses_and_literals_are_checked() {
        let g = Guard::new(vec!["127.0.0.1/32".parse().unwrap()]);
        assert!(g.check_url("http://127.0.0.1:9/hook").await.is_ok());
        assert!(g.check_url("http://[::1]:9/hook").await.unwrap_err().contains("loopback"));
        assert!(g.check_url("http://[::ffff:127.0.0.2]:9/").await.is_err());
        assert!(g.check_url("https://169.254.169.254/latest/meta-data").await.is_err());
        assert!(Guard::default().check_url("http://8.8.8.8/hook").await.unwrap_err().contains("https"));
        assert!(Guard::default().check_url("https://8.8.8.8/hook").await.is_ok());
        // `localhost` resolves to loopback: refused without a listing for ::1 too.
        assert!(Guard::default().check_url("https://localhost/hook").await.is_err());
    }
}
