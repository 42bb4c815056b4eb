//! The little XML that AWS's Query APIs (IAM, STS) answer with, read into
//! a tree of elements: names without namespace prefixes, text with the
//! five predefined entities and character references decoded, attributes
//! skipped, CDATA kept as text. Anything malformed (an unclosed or
//! mismatched tag, an unknown entity, a document that is not one element)
//! is `None`: the caller turns that into `bad_response`.

/// An element: its local name, its text (the concatenated text directly
/// inside it) and its child elements in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The first child called `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child called `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The element at a path of child names.
    pub fn at(&self, path: &[&str]) -> Option<&Element> {
        path.iter().try_fold(self, |e, name| e.child(name))
    }

    /// The first element called `name` at any depth (itself included),
    /// depth first.
    pub fn find(&self, name: &str) -> Option<&Element> {
        if self.name == name {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(name))
    }

    /// The trimmed text of the child at `path`.
    pub fn text_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path).map(|e| e.text.trim())
    }
}

/// Parses a document into its root element.
pub fn parse(text: &str) -> Option<Element> {
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut rest = text.trim_start_matches('\u{feff}');
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("<?") {
            rest = &after[after.find("?>")? + 2..];
        } else if let Some(after) = rest.strip_prefix("<!--") {
            rest = &after[after.find("-->")? + 3..];
        } else if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let end = after.find("]]>")?;
            stack.last_mut()?.text.push_str(&after[..end]);
            rest = &after[end + 3..];
        } else if rest.starts_with("<!") {
            return None; // a DOCTYPE: never in an AWS answer
        } else if let Some(after) = rest.strip_prefix("</") {
            let end = after.find('>')?;
            let name = local(after[..end].trim());
            let done = stack.pop()?;
            if done.name != name {
                return None;
            }
            match stack.last_mut() {
                Some(parent) => parent.children.push(done),
                None if root.is_none() => root = Some(done),
                None => return None,
            }
            rest = &after[end + 1..];
        } else if let Some(after) = rest.strip_prefix('<') {
            let end = tag_end(after)?;
            let inner = &after[..end];
            let (inner, empty) = match inner.strip_suffix('/') {
                Some(i) => (i, true),
                None => (inner, false),
            };
            let name = inner.split(|c: char| c.is_whitespace()).next()?;
            if name.is_empty() || root.is_some() {
                return None;
            }
            let element = Element {
                name: local(name).to_owned(),
                ..Element::default()
            };
            if empty {
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            } else {
                stack.push(element);
            }
            rest = &after[end + 1..];
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let raw = &rest[..end];
            match stack.last_mut() {
                Some(open) => open.text.push_str(&decode(raw)?),
                None if raw.trim().is_empty() => {}
                None => return None,
            }
            rest = &rest[end..];
        }
    }
    if stack.is_empty() {
        root
    } else {
        None
    }
}

/// Where a start tag's `>` is, skipping quoted attribute values.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return Some(i),
            (None, '<') => return None,
            _ => {}
        }
    }
    None
}

/// `iam:UserName` → `UserName`.
fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

fn decode(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find(';')?;
        let entity = &after[..end];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()?
                } else {
                    entity.strip_prefix('#')?.parse().ok()?
                };
                char::from_u32(code)?
            }
        };
        out.push(c);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_iam_answer_reads_as_a_tree() {
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListAccessKeysResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <ListAccessKeysResult>
    <AccessKeyMetadata>
      <member><UserName>bob &amp; co</UserName><AccessKeyId>AKIA1</AccessKeyId><Status>Active</Status></member>
      <member><UserName>bob</UserName><AccessKeyId>AKIA2</AccessKeyId><Status>Inactive</Status></member>
    </AccessKeyMetadata>
    <IsTruncated>false</IsTruncated>
  </ListAccessKeysResult>
  <ResponseMetadata><RequestId>x-1</RequestId></ResponseMetadata>
</ListAccessKeysResponse>"#;
        let root = parse(doc).expect("parsed");
        assert_eq!(root.name, "ListAccessKeysResponse");
        let members: Vec<&Element> = root
            .at(&["ListAccessKeysResult", "AccessKeyMetadata"])
            .expect("keys")
            .all("member")
            .collect();
        assert_eq!(members.len(), 2);
        assert_eq!(members[0].text_at(&["UserName"]), Some("bob & co"));
        assert_eq!(members[1].text_at(&["Status"]), Some("Inactive"));
        assert_eq!(
            root.text_at(&["ResponseMetadata", "RequestId"]),
            Some("x-1")
        );
        assert_eq!(
            root.find("AccessKeyId").map(|e| e.text.as_str()),
            Some("AKIA1")
        );
        assert_eq!(root.find("Nope"), None);
    }

    #[test]
    fn entities_cdata_empty_tags_and_prefixes() {
        let root =
            parse("<a:R x='1>2'><B/><C>&#65;&#x42;&lt;<![CDATA[<raw>]]></C><!-- c --></a:R>")
                .expect("parsed");
        assert_eq!(root.name, "R");
        assert!(root.child("B").is_some());
        assert_eq!(root.text_at(&["C"]), Some("AB<<raw>"));
    }

    #[test]
    fn malformed_documents_are_none() {
        for bad in [
            "",
            "<a>",
            "<a></b>",
            "<a>&bogus;</a>",
            "<a>x</a><b/>",
            "text",
            "<!DOCTYPE a><a/>",
            "<html><body>Service Unavailable",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
