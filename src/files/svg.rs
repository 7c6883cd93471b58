//! SVG checked by an XML parser against an allow-list: an SVG opened from the portal must not
//! be able to run code or fetch anything. Elements in the SVG namespace must be ones that only
//! draw; elements of other namespaces (Inkscape, Visio and RDF metadata) are kept only when
//! they are not XHTML; no DOCTYPE (entities), no processing instructions; no event-handler
//! attribute, no link that leaves the document, no `url()` but `url(#…)`, no `@import`.
//! Names are compared after namespace resolution, so `<x:script xmlns:x="…svg">` is a script.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

const SVG_NS: &str = "http://www.w3.org/2000/svg";
const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";

/// Elements that only draw or group (no script, animation, foreign content or external load).
const DRAWING: &[&str] = &[
    "svg",
    "g",
    "defs",
    "title",
    "desc",
    "metadata",
    "symbol",
    "use",
    "switch",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "textPath",
    "linearGradient",
    "radialGradient",
    "stop",
    "pattern",
    "clipPath",
    "mask",
    "marker",
    "filter",
    "feGaussianBlur",
    "feOffset",
    "feBlend",
    "feColorMatrix",
    "feFlood",
    "feComposite",
    "feMerge",
    "feMergeNode",
    "feMorphology",
    "feDropShadow",
    "image",
    "style",
    "a",
];

/// Whether an SVG document is safe to keep (see the module's rules).
pub fn is_safe(content: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(content))
    else {
        return false;
    };
    check(text).unwrap_or(false)
}

fn check(text: &str) -> Result<bool, quick_xml::Error> {
    let mut reader = NsReader::from_str(text);
    let mut in_style = 0usize;
    let mut saw_svg = false;
    loop {
        let (ns, event) = reader.read_resolved_event()?;
        let ns = match ns {
            ResolveResult::Bound(n) => Some(n.0.to_string()),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(_) => return Ok(false),
        };
        let element = |e: &quick_xml::events::BytesStart<'_>| {
            let name = e.local_name().into_inner().to_string();
            let ok = element_allowed(ns.as_deref(), &name) && attributes_safe(e, &name);
            (name, ok)
        };
        let opens = matches!(event, Event::Start(_));
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let (name, ok) = element(&e);
                if !ok {
                    return Ok(false);
                }
                saw_svg |= name == "svg";
                in_style += usize::from(opens && name == "style");
            }
            Event::End(e) if e.local_name().into_inner() == "style" => {
                in_style = in_style.saturating_sub(1);
            }
            Event::Text(t) if in_style > 0 && !css_safe(&t) => {
                return Ok(false);
            }
            Event::CData(c) if in_style > 0 && !css_safe(&c) => {
                return Ok(false);
            }
            Event::DocType(_) | Event::PI(_) => return Ok(false),
            // An entity other than the XML ones would need a DOCTYPE, refused above.
            Event::Eof => return Ok(saw_svg),
            _ => {}
        }
    }
}

fn element_allowed(ns: Option<&str>, name: &str) -> bool {
    match ns {
        Some(SVG_NS) | None => DRAWING.contains(&name),
        Some(XHTML_NS) => false,
        // Metadata of drawing programs; browsers do not render or run it.
        Some(_) => !name.eq_ignore_ascii_case("script"),
    }
}

fn attributes_safe(e: &BytesStart<'_>, element: &str) -> bool {
    for attr in e.attributes() {
        let Ok(attr) = attr else { return false };
        let name = attr.key.local_name().into_inner().to_ascii_lowercase();
        let Ok(value) = attr.normalized_value(quick_xml::XmlVersion::default()) else {
            return false;
        };
        let squeezed: String = value
            .chars()
            .filter(|c| !c.is_whitespace() && !c.is_control())
            .collect::<String>()
            .to_ascii_lowercase();
        if name.starts_with("on") || squeezed.contains("javascript:") {
            return false;
        }
        if name == "href" {
            let inline_picture = element == "image"
                && ["data:image/png;", "data:image/jpeg;", "data:image/gif;"]
                    .iter()
                    .any(|p| squeezed.starts_with(p));
            if !squeezed.starts_with('#') && !inline_picture {
                return false;
            }
        }
        if !css_safe(&value) {
            return false;
        }
    }
    true
}

/// CSS (a `style` element or attribute, or a presentation attribute): only `url(#…)`.
fn css_safe(css: &str) -> bool {
    let s: String = css
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    if s.contains("@import") || s.contains("expression(") || s.contains('\\') {
        return false;
    }
    s.match_indices("url(").all(|(i, _)| {
        let rest = s[i + 4..].trim_start_matches(['"', '\'']);
        rest.starts_with('#')
    })
}

#[cfg(test)]
mod tests {
    use super::is_safe;

    const NS: &str =
        r#"xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink""#;

    #[test]
    fn drawings_from_real_tools_are_kept() {
        for svg in [
            format!(
                r##"<?xml version="1.0" encoding="UTF-8"?><svg {NS} width="10"><rect width="10" height="10" style="fill:url(#g)"/><defs><linearGradient id="g"><stop offset="0"/></linearGradient></defs><use xlink:href="#g"/><text>構成図</text></svg>"##
            ),
            format!(
                r#"<svg {NS} xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"><sodipodi:namedview inkscape:zoom="1"/><g inkscape:label="Layer 1"><path d="M0 0L1 1"/></g></svg>"#
            ),
            format!(r#"<svg {NS}><style>.a {{ fill: #fff; }}</style><g class="a"/></svg>"#),
        ] {
            assert!(is_safe(svg.as_bytes()), "{svg}");
        }
    }

    #[test]
    fn every_bypass_of_the_attack_run_is_refused() {
        for svg in [
            format!("<svg {NS}><script>alert(1)</script></svg>"),
            format!(r#"<svg {NS} onload ="alert(1)"/>"#),
            format!(
                r#"<svg {NS} xmlns:x="http://www.w3.org/2000/svg"><x:script>alert(1)</x:script></svg>"#
            ),
            format!(r#"<svg {NS}><a href="jav&#x61;script:alert(1)"><text>x</text></a></svg>"#),
            format!(r#"<svg {NS}><set attributeName="onmouseover" to="alert(1)"/></svg>"#),
            format!(r#"<svg {NS}><image href="https://evil.example/x.png"/></svg>"#),
            format!(r#"<svg {NS}><style>@import url(https://evil.example/x.css);</style></svg>"#),
            format!(r#"<svg {NS}><rect style="fill:url(https://evil.example/p)"/></svg>"#),
            format!(
                r#"<svg {NS}><foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject></svg>"#
            ),
            format!(
                r#"<svg {NS} xmlns:h="http://www.w3.org/1999/xhtml"><h:script>alert(1)</h:script></svg>"#
            ),
            format!(r#"<!DOCTYPE svg [<!ENTITY x "y">]><svg {NS}>&x;</svg>"#),
            format!(r#"<?xml-stylesheet href="x.xsl"?><svg {NS}/>"#),
            format!(r#"<svg {NS}><animate attributeName="href" to="javascript:alert(1)"/></svg>"#),
            "not xml at all <svg".to_string(),
        ] {
            assert!(!is_safe(svg.as_bytes()), "{svg}");
        }
    }
}
