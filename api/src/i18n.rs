//! Languages: Indonesian (`id`, the default, the office's language) and English (`en`).
//!
//! The texts are Project Fluent resources, `api/locales/{id,en}/jembatan.ftl`, compiled
//! into the binary and parsed once into one immutable bundle per language. Nothing holds a
//! "current language": a request's language is resolved from `Accept-Language` by
//! [`middleware`] into the request's extensions, and whoever renders text passes a [`Lang`]
//! (handlers take it as an extractor; problem documents are rendered by the middleware from
//! the `ApiError` the response carries). Mail and in-app notifications are written in
//! Indonesian ([`Lang::Id`]): no recipient has a language of their own yet.
//!
//! A text in code is a [`Msg`]: a key with arguments (`msg!("key", name = value)`), or a
//! plain `Msg::Text` that is sent as it is in both languages (what is not translated yet).

use std::borrow::Cow;
use std::fmt;
use std::sync::LazyLock;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

use crate::error::ApiError;

/// The resource files, one per language, in the order of [`Lang::ALL`].
pub const RESOURCES: [(Lang, &str); 2] =
    [(Lang::Id, include_str!("../locales/id/jembatan.ftl")), (Lang::En, include_str!("../locales/en/jembatan.ftl"))];

/// A language this service answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// Bahasa Indonesia: the default, for a request without `Accept-Language` or with none
    /// we have.
    #[default]
    Id,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Id, Lang::En];

    /// The language tag (`Content-Language`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }

    /// The language `Accept-Language` asks for (RFC 9110 §12.5.4, basic filtering): the
    /// highest q-value among the ranges that match `id` or `en` (a range matches when it is
    /// the language or the language followed by `-…`, e.g. `en-US`; `*` matches either
    /// one not named otherwise); on a tie the range written first. `q=0` excludes. Nothing
    /// acceptable, no header, or a malformed one: Indonesian.
    pub fn negotiate(accept_language: Option<&str>) -> Lang {
        let Some(header) = accept_language else { return Lang::Id };
        // Per language: the range naming it exactly (`en`), the best regional one (`en-US`:
        // our `en` is not an `en-US`, but a client asking for it wants English), and `*`.
        let mut exact: [Option<(u16, usize)>; 2] = [None, None];
        let mut regional: [Option<(u16, usize)>; 2] = [None, None];
        let mut star: Option<(u16, usize)> = None;
        for (pos, item) in header.split(',').enumerate() {
            let mut parts = item.split(';');
            let range = parts.next().unwrap_or("").trim();
            if range.is_empty() {
                continue;
            }
            let mut q = 1000u16;
            for p in parts {
                let p = p.trim();
                if let Some(v) = p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")) {
                    q = parse_q(v.trim()).unwrap_or(0);
                }
            }
            if range == "*" {
                star = star.or(Some((q, pos)));
                continue;
            }
            let (primary, region) = match range.split_once('-') {
                Some((p, _)) => (p, true),
                None => (range, false),
            };
            let lang = match primary.to_ascii_lowercase().as_str() {
                // `in` is Indonesian's withdrawn ISO 639 code, still sent by old Java clients.
                "id" | "in" => 0,
                "en" => 1,
                _ => continue,
            };
            if !region {
                exact[lang] = exact[lang].or(Some((q, pos)));
            } else if regional[lang].is_none_or(|(best, _)| q > best) {
                regional[lang] = Some((q, pos));
            }
        }
        let score = |i: usize| exact[i].or(regional[i]).or(star.map(|(q, pos)| (q, pos + 10_000)));
        let mut choice: Option<(u16, usize, Lang)> = None;
        for (i, lang) in Lang::ALL.into_iter().enumerate() {
            if let Some((q, pos)) = score(i).filter(|(q, _)| *q > 0) {
                let better = match choice {
                    None => true,
                    Some((cq, cpos, _)) => q > cq || (q == cq && pos < cpos),
                };
                if better {
                    choice = Some((q, pos, lang));
                }
            }
        }
        choice.map(|(_, _, l)| l).unwrap_or(Lang::Id)
    }

    /// The language the middleware resolved for a request (Indonesian outside it).
    pub fn of_extensions(ext: &actix_web::dev::Extensions) -> Lang {
        ext.get::<Lang>().copied().unwrap_or_default()
    }

    fn bundle(self) -> &'static FluentBundle<FluentResource> {
        &BUNDLES[self as usize]
    }

    /// The text of `key` with its arguments. A key missing from the resources (a bug the
    /// unit tests look for) renders as the key itself, and fails debug builds.
    pub fn text(self, key: &str, args: &[(&str, Arg)]) -> String {
        let bundle = self.bundle();
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            debug_assert!(false, "no text `{key}` in `{}`", self.tag());
            tracing::warn!(key, lang = self.tag(), "missing text");
            return key.to_owned();
        };
        let mut fargs = FluentArgs::new();
        for (name, value) in args {
            fargs.set(*name, FluentValue::from(value.render(self)));
        }
        let mut errors = Vec::new();
        let out = bundle.format_pattern(pattern, Some(&fargs), &mut errors).into_owned();
        debug_assert!(errors.is_empty(), "text `{key}` in `{}`: {errors:?}", self.tag());
        out
    }

    /// A message in this language.
    pub fn render(self, m: &Msg) -> String {
        match m {
            Msg::Key { key, args } => self.text(key, args),
            Msg::Text(t) => t.clone(),
            Msg::List(ms) => ms.iter().map(|m| self.render(m)).collect::<Vec<_>>().join(", "),
            Msg::Fields(errors) => errors
                .iter()
                .map(|(f, ms)| format!("{f}: {}", ms.iter().map(|m| self.render(m)).collect::<Vec<_>>().join("; ")))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// `0`, `0.5`, `1`, `1.000`: thousandths; anything else is not a q-value.
fn parse_q(v: &str) -> Option<u16> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac_value = format!("{frac:0<3}").parse::<u16>().ok()?;
    match int {
        "0" => Some(frac_value),
        "1" if frac_value == 0 => Some(1000),
        _ => None,
    }
}

static BUNDLES: LazyLock<[FluentBundle<FluentResource>; 2]> = LazyLock::new(|| RESOURCES.map(|(l, s)| bundle(l, s)));

fn bundle(lang: Lang, source: &str) -> FluentBundle<FluentResource> {
    let id: unic_langid::LanguageIdentifier = lang.tag().parse().expect("a valid language tag");
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks around arguments: the texts go into JSON and mail, not
    // into a bidirectional UI.
    b.set_use_isolating(false);
    let resource = FluentResource::try_new(source.to_owned()).expect("the resource files parse (unit-tested)");
    b.add_resource(resource).expect("no text is defined twice (unit-tested)");
    b
}

/// Every thing `ApiError::not_found` and `compare_and_set` name (a unit test checks that
/// each has its `thing-…` text).
pub const THINGS: &[&str] = &[
    "request",
    "closed date",
    "special schedule",
    "notification",
    "organization",
    "user",
    "acting assignment",
    "integration",
    "workflow",
    "workflow version",
    "API client",
    "document",
    "checkpoint",
    "audit event",
    "webhook endpoint",
    "delivery",
];

/// An argument of a message: plain text, or a message of its own (rendered in the same
/// language, e.g. the name of the thing that was not found).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Text(String),
    Msg(Box<Msg>),
}

impl Arg {
    fn render(&self, lang: Lang) -> String {
        match self {
            Arg::Text(t) => t.clone(),
            Arg::Msg(m) => lang.render(m),
        }
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Text(s)
    }
}
impl From<&String> for Arg {
    fn from(s: &String) -> Self {
        Arg::Text(s.clone())
    }
}
impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Text(s.to_owned())
    }
}
impl From<Msg> for Arg {
    fn from(m: Msg) -> Self {
        Arg::Msg(Box::new(m))
    }
}
macro_rules! arg_from_display {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(v: $t) -> Self {
                Arg::Text(v.to_string())
            }
        }
    )*};
}
arg_from_display!(
    u8,
    u16,
    u32,
    u64,
    usize,
    i32,
    i64,
    uuid::Uuid,
    crate::workflow::StepCode,
    crate::workflow::DocumentKind,
    crate::workflow::Role,
    crate::workflow::Flow
);

/// A text for a person: a key of the resource files with its arguments, or text that is
/// not translated (sent as it is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    Key {
        key: Cow<'static, str>,
        args: Vec<(&'static str, Arg)>,
    },
    Text(String),
    /// Messages joined with ", ".
    List(Vec<Msg>),
    /// `field: message; message, field: message`: a validation problem's detail.
    Fields(crate::error::FieldErrors),
}

impl Msg {
    pub fn key(key: impl Into<Cow<'static, str>>, args: Vec<(&'static str, Arg)>) -> Self {
        Msg::Key { key: key.into(), args }
    }

    /// The name of a kind of thing (`request`, `API client`: a `thing-…` key, see
    /// [`THINGS`]), for "… not found" and "… changed meanwhile".
    pub fn thing(what: &str) -> Self {
        Msg::key(format!("thing-{}", what.to_ascii_lowercase().replace(' ', "-")), Vec::new())
    }

    /// The label of a request status.
    pub fn status(s: crate::workflow::Status) -> Self {
        Msg::key(format!("status-{}", s.as_str()), Vec::new())
    }
}

/// English, for logs and `Display`.
impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&Lang::En.render(self))
    }
}

impl From<String> for Msg {
    fn from(s: String) -> Self {
        Msg::Text(s)
    }
}
impl From<&str> for Msg {
    fn from(s: &str) -> Self {
        Msg::Text(s.to_owned())
    }
}

/// `msg!("key")`, `msg!("key", name = value, …)`: a [`Msg`] from the resource files. The
/// key must be a literal: a unit test finds every one in the source and checks that both
/// languages have it.
#[macro_export]
macro_rules! msg {
    ($key:literal) => {
        $crate::i18n::Msg::key($key, ::std::vec::Vec::new())
    };
    ($key:literal, $($name:ident = $value:expr),+ $(,)?) => {
        $crate::i18n::Msg::key($key, ::std::vec![$((stringify!($name), $crate::i18n::Arg::from($value))),+])
    };
}

/// A response body with labels in the default language that can be put in another.
pub trait Localize {
    fn localize(&mut self, lang: Lang);

    fn localized(mut self, lang: Lang) -> Self
    where
        Self: Sized,
    {
        self.localize(lang);
        self
    }
}

impl<T: Localize> Localize for Vec<T> {
    fn localize(&mut self, lang: Lang) {
        self.iter_mut().for_each(|t| t.localize(lang));
    }
}

impl<T: Localize> Localize for crate::shared::Page<T> {
    fn localize(&mut self, lang: Lang) {
        self.items.localize(lang);
    }
}

/// Marks a request whose response carries language-dependent text (set by the [`Lang`]
/// extractor and by problem rendering); the middleware then answers `Content-Language`.
#[derive(Clone, Copy)]
struct Spoken;

/// The request's language, for handlers that render text (labels).
impl FromRequest for Lang {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(of_request(req)))
    }
}

/// The request's language, marking the response as language-dependent.
pub fn of_request(req: &HttpRequest) -> Lang {
    let lang = req.extensions().get::<Lang>().copied().unwrap_or_else(|| negotiate_header(req.headers()));
    req.extensions_mut().insert(Spoken);
    lang
}

fn negotiate_header(h: &header::HeaderMap) -> Lang {
    // Several header lines are one comma-separated list.
    let joined: Vec<&str> = h.get_all(header::ACCEPT_LANGUAGE).filter_map(|v| v.to_str().ok()).collect();
    if joined.is_empty() { Lang::Id } else { Lang::negotiate(Some(&joined.join(","))) }
}

/// Resolves the language, renders the problem document of an `ApiError` response in it,
/// and answers `Content-Language` and `Vary: Accept-Language` on every response whose text
/// depends on it.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let lang = negotiate_header(req.headers());
    req.extensions_mut().insert(lang);
    // (The request must not be cloned while routing runs: an inner layer's `Err` passes
    // through as it is.)
    let res = next.call(req).await?.map_into_boxed_body();
    let (req, mut res) = res.into_parts();
    if let Some(problem) = res.error().and_then(|e| e.as_error::<ApiError>()).map(|e| e.problem_in(lang)) {
        res = res.set_body(BoxBody::new(serde_json::to_string(&problem).unwrap_or_default()));
        req.extensions_mut().insert(Spoken);
    }
    if req.extensions().get::<Spoken>().is_some() {
        let h = res.headers_mut();
        h.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.tag()));
        h.append(header::VARY, HeaderValue::from_static("Accept-Language"));
    }
    Ok(ServiceResponse::new(req, res))
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use fluent_syntax::ast;

    use super::*;

    /// Every message id of a resource with the variables it uses.
    fn messages(source: &str) -> BTreeMap<String, BTreeSet<String>> {
        fn expr(e: &ast::Expression<&str>, out: &mut BTreeSet<String>) {
            match e {
                ast::Expression::Select { selector, variants } => {
                    inline(selector, out);
                    for v in variants {
                        pattern(&v.value, out);
                    }
                }
                ast::Expression::Inline(i) => inline(i, out),
            }
        }
        fn inline(i: &ast::InlineExpression<&str>, out: &mut BTreeSet<String>) {
            match i {
                ast::InlineExpression::VariableReference { id } => {
                    out.insert(id.name.to_owned());
                }
                ast::InlineExpression::Placeable { expression } => expr(expression, out),
                _ => {}
            }
        }
        fn pattern(p: &ast::Pattern<&str>, out: &mut BTreeSet<String>) {
            for el in &p.elements {
                if let ast::PatternElement::Placeable { expression } = el {
                    expr(expression, out);
                }
            }
        }
        let resource = fluent_syntax::parser::parse(source).unwrap_or_else(|(_, errors)| panic!("{errors:?}"));
        let mut out = BTreeMap::new();
        for entry in resource.body {
            match entry {
                ast::Entry::Message(m) => {
                    let mut vars = BTreeSet::new();
                    let value = m.value.unwrap_or_else(|| panic!("`{}` has no value", m.id.name));
                    pattern(&value, &mut vars);
                    assert!(out.insert(m.id.name.to_owned(), vars).is_none(), "`{}` twice", m.id.name);
                }
                ast::Entry::Term(_) | ast::Entry::Comment(_) | ast::Entry::GroupComment(_) => {}
                ast::Entry::ResourceComment(_) => {}
                ast::Entry::Junk { content } => panic!("unparsable: {content}"),
            }
        }
        out
    }

    #[test]
    fn every_key_exists_in_both_languages_with_the_same_placeholders() {
        let [(_, id), (_, en)] = RESOURCES;
        let (id, en) = (messages(id), messages(en));
        let only_id: Vec<_> = id.keys().filter(|k| !en.contains_key(*k)).collect();
        let only_en: Vec<_> = en.keys().filter(|k| !id.contains_key(*k)).collect();
        assert!(only_id.is_empty() && only_en.is_empty(), "only in id: {only_id:?}; only in en: {only_en:?}");
        for (key, vars) in &id {
            assert_eq!(vars, &en[key], "`{key}` uses other placeholders in id and en");
        }
        // And the bundles load (no duplicates, no junk).
        for lang in Lang::ALL {
            assert!(lang.bundle().has_message("problem-title-not-found"));
        }
    }

    /// Every `msg!("…")` key in the source is in the resources.
    #[test]
    fn every_key_the_code_names_exists() {
        let [(_, id), _] = RESOURCES;
        let known = messages(id);
        let mut missing = Vec::new();
        let mut seen = 0;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, _) in text.match_indices("msg!(\"") {
                    let line_start = text[..i].rfind('\n').map_or(0, |n| n + 1);
                    if text[line_start..i].trim_start().starts_with("//") {
                        continue;
                    }
                    let rest = &text[i + 6..];
                    let key = &rest[..rest.find('"').unwrap()];
                    seen += 1;
                    if !known.contains_key(key) {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            }
        }
        assert!(seen > 50, "found only {seen} keys: is the scan broken?");
        assert!(missing.is_empty(), "keys missing from the resources: {missing:#?}");
    }

    #[test]
    fn every_status_has_a_label() {
        for lang in Lang::ALL {
            for s in crate::workflow::Status::ALL {
                let label = lang.render(&Msg::status(*s));
                assert!(!label.starts_with("status-"), "{label}");
            }
        }
        assert_eq!(Lang::Id.render(&Msg::status(crate::workflow::Status::Returned)), "Dikembalikan");
        assert_eq!(Lang::En.render(&Msg::status(crate::workflow::Status::Returned)), "Returned");
    }

    #[test]
    fn every_thing_has_a_name() {
        for lang in Lang::ALL {
            for what in THINGS {
                assert!(!lang.render(&Msg::thing(what)).starts_with("thing-"), "{what}");
            }
        }
    }

    #[test]
    fn arguments_are_filled_in_without_isolation_marks() {
        let m = msg!("not-found", what = msg!("thing-request"));
        assert_eq!(Lang::En.render(&m), "request not found");
        assert_eq!(Lang::Id.render(&m), "permohonan tidak ditemukan");
    }

    #[test]
    fn accept_language() {
        use Lang::*;
        let cases = [
            (None, Id),
            (Some(""), Id),
            (Some("en"), En),
            (Some("EN-us"), En),
            (Some("en-GB,en;q=0.9"), En),
            (Some("id"), Id),
            (Some("id-ID"), Id),
            (Some("in"), Id),
            (Some("fr"), Id),
            (Some("fr, en;q=0.5"), En),
            (Some("de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7"), En),
            (Some("id;q=0.5, en;q=0.8"), En),
            (Some("en;q=0.5, id;q=0.8"), Id),
            (Some("en, id"), En),
            (Some("id, en"), Id),
            (Some("*"), Id),
            (Some("id;q=0, *"), En),
            (Some("en;q=0"), Id),
            (Some("en;q=0.000"), Id),
            (Some("en;q=2"), Id),
            (Some("en;q=abc"), Id),
            (Some("en-US;q=0, en;q=1"), En),
            (Some("en;q=0, en-US"), Id),
            (Some("en-GB;q=0.3, en-US;q=0.9, id;q=0.5"), En),
            (Some(";;,,"), Id),
            (Some("jv, su;q=0.9, en;q=0.1"), En),
        ];
        for (header, want) in cases {
            assert_eq!(Lang::negotiate(header), want, "{header:?}");
        }
    }
}
