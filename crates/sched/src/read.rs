//! Readers: OR-Library weighted-tardiness files and JSON job lists.
//!
//! Both never panic on input and report errors as `FILE:LINE: message`.
//!
//! * **OR-Library** (`wt40.txt`, `wt50.txt`, `wt100.txt` of Beasley's OR-Library; Crauwels,
//!   Potts & Van Wassenhove 1998): whitespace-separated integers, per instance n processing
//!   times, then n weights, then n due dates, instances one after another. The file does not
//!   say n, so the caller must.
//! * **JSON**: `{"jobs": [{"p": 3, "d": 10, "w": 2}, ...]}` (w defaults to 1; an optional
//!   `"name"`), or a list of such objects, or `{"instances": [...]}` whose entries are such
//!   objects or column form `{"p": [...], "d": [...], "w": [...]}` (the layout of decide's
//!   reference data).

use crate::instance::{Instance, InstanceError, Job};
use std::fmt;
use std::path::{Path, PathBuf};

/// What kind of failure a [`ReadError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadErrorKind {
    /// The file could not be read.
    Io,
    /// The file was read but its content is not a valid instance list.
    Invalid,
}

/// A read failure, displayed as `path:line: message` (`path: message` without a line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line, when there is one.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// Unreadable file or invalid content.
    pub kind: ReadErrorKind,
}

impl ReadError {
    fn invalid(path: &Path, line: usize, message: impl Into<String>) -> Self {
        ReadError {
            path: path.to_path_buf(),
            line: Some(line),
            message: message.into(),
            kind: ReadErrorKind::Invalid,
        }
    }

    /// Whether the file itself could not be read (as opposed to bad content).
    pub fn is_io(&self) -> bool {
        self.kind == ReadErrorKind::Io
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.path.display(), line, self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ReadError {}

/// An instance as read, with where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadInstance {
    /// The name given in the file (JSON `"name"`), if any.
    pub name: Option<String>,
    /// The line where the instance starts.
    pub line: usize,
    /// The jobs.
    pub instance: Instance,
}

/// The formats [`read`] knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// OR-Library weighted tardiness text.
    OrLibrary,
    /// JSON job lists.
    Json,
}

impl Format {
    /// `.json` is JSON; anything else is taken as OR-Library text.
    pub fn from_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("json") => Format::Json,
            _ => Format::OrLibrary,
        }
    }
}

/// Reads every instance of `path` in the format its extension names. `n_jobs` is required
/// for OR-Library files; for JSON it is checked against every instance when given.
pub fn read(path: &Path, n_jobs: Option<usize>) -> Result<Vec<ReadInstance>, ReadError> {
    let bytes = std::fs::read(path).map_err(|e| ReadError {
        path: path.to_path_buf(),
        line: None,
        message: e.to_string(),
        kind: ReadErrorKind::Io,
    })?;
    let Ok(text) = std::str::from_utf8(&bytes) else {
        let valid = std::str::from_utf8(&bytes[..utf8_prefix(&bytes)]).unwrap_or("");
        return Err(ReadError::invalid(
            path,
            valid.matches('\n').count() + 1,
            "the file is not UTF-8 text",
        ));
    };
    match Format::from_path(path) {
        Format::Json => {
            let instances = parse_json(text, path)?;
            if let Some(n) = n_jobs {
                for r in &instances {
                    if r.instance.n_jobs() != n {
                        return Err(ReadError::invalid(
                            path,
                            r.line,
                            format!(
                                "the instance has {} jobs but --jobs says {n}",
                                r.instance.n_jobs()
                            ),
                        ));
                    }
                }
            }
            Ok(instances)
        }
        Format::OrLibrary => match n_jobs {
            Some(n) => parse_orlibrary(text, path, n),
            None => Err(ReadError {
                path: path.to_path_buf(),
                line: None,
                message: "an OR-Library file does not say how many jobs an instance has; \
                          give the number of jobs (--jobs N)"
                    .into(),
                kind: ReadErrorKind::Invalid,
            }),
        },
    }
}

fn utf8_prefix(bytes: &[u8]) -> usize {
    match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        Err(e) => e.valid_up_to(),
    }
}

/// Parses OR-Library weighted-tardiness text with `n_jobs` jobs per instance; `path` is only
/// used in messages.
pub fn parse_orlibrary(
    text: &str,
    path: &Path,
    n_jobs: usize,
) -> Result<Vec<ReadInstance>, ReadError> {
    if n_jobs == 0 {
        return Err(ReadError::invalid(
            path,
            1,
            "the number of jobs must be at least 1",
        ));
    }
    // (value, line) of every number, in file order.
    let mut numbers: Vec<(i64, usize)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        for token in line.split_whitespace() {
            let value: i64 = token.parse().map_err(|_| {
                ReadError::invalid(
                    path,
                    index + 1,
                    format!("{:?} is not an integer", shorten(token)),
                )
            })?;
            numbers.push((value, index + 1));
        }
    }
    let Some(block) = n_jobs.checked_mul(3) else {
        return Err(ReadError::invalid(
            path,
            1,
            format!("{n_jobs} jobs per instance is more than any file can hold"),
        ));
    };
    if numbers.is_empty() {
        return Err(ReadError::invalid(path, 1, "the file holds no numbers"));
    }
    if numbers.len() % block != 0 {
        let complete = numbers.len() / block;
        let last_line = numbers.last().map_or(1, |&(_, l)| l);
        return Err(ReadError::invalid(
            path,
            last_line,
            format!(
                "the file ends inside instance {}: it holds {} numbers, not a multiple of \
                 3 × {n_jobs} (processing times, weights, due dates per instance); is the \
                 number of jobs right?",
                complete + 1,
                numbers.len()
            ),
        ));
    }
    let mut instances = Vec::with_capacity(numbers.len() / block);
    for chunk in numbers.chunks(block) {
        let (p, rest) = chunk.split_at(n_jobs);
        let (w, d) = rest.split_at(n_jobs);
        let jobs: Vec<Job> = (0..n_jobs)
            .map(|j| Job::new(p[j].0, d[j].0, w[j].0))
            .collect();
        let instance = Instance::try_new(jobs).map_err(|e| {
            let line = match e {
                InstanceError::NonPositiveProcessingTime { job, .. } => p[job].1,
                InstanceError::NegativeWeight { job, .. } => w[job].1,
                _ => chunk[0].1,
            };
            ReadError::invalid(path, line, format!("instance {}: {e}", instances.len() + 1))
        })?;
        instances.push(ReadInstance {
            name: None,
            line: chunk[0].1,
            instance,
        });
    }
    Ok(instances)
}

fn shorten(text: &str) -> String {
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text.to_string()
    }
}

/// Parses a JSON job list (see the module docs); `path` is only used in messages.
pub fn parse_json(text: &str, path: &Path) -> Result<Vec<ReadInstance>, ReadError> {
    let document = json::parse(text).map_err(|e| ReadError::invalid(path, e.line, e.message))?;
    let entries: Vec<&json::Node> = match &document.value {
        json::Value::Array(items) => items.iter().collect(),
        json::Value::Object(_) => match document.field("instances") {
            Some(list) => match &list.value {
                json::Value::Array(items) => items.iter().collect(),
                _ => {
                    return Err(ReadError::invalid(
                        path,
                        list.line,
                        "\"instances\" must be a list",
                    ));
                }
            },
            None => vec![&document],
        },
        _ => {
            return Err(ReadError::invalid(
                path,
                document.line,
                "expected an object with \"jobs\", a list of them, or {\"instances\": [...]}",
            ));
        }
    };
    if entries.is_empty() {
        return Err(ReadError::invalid(
            path,
            document.line,
            "the list of instances is empty",
        ));
    }
    entries
        .into_iter()
        .map(|entry| json_instance(entry, path))
        .collect()
}

fn json_instance(entry: &json::Node, path: &Path) -> Result<ReadInstance, ReadError> {
    let json::Value::Object(_) = &entry.value else {
        return Err(ReadError::invalid(
            path,
            entry.line,
            "an instance must be an object",
        ));
    };
    let name = match entry.field("name") {
        None => None,
        Some(node) => match &node.value {
            json::Value::String(s) => Some(s.clone()),
            json::Value::Number(s) => Some(s.clone()),
            _ => {
                return Err(ReadError::invalid(
                    path,
                    node.line,
                    "\"name\" must be a string",
                ));
            }
        },
    };
    // (job, line of its processing time, line of its weight)
    let mut jobs: Vec<(Job, usize, usize)> = Vec::new();
    if let Some(list) = entry.field("jobs") {
        let json::Value::Array(items) = &list.value else {
            return Err(ReadError::invalid(
                path,
                list.line,
                "\"jobs\" must be a list",
            ));
        };
        for (index, item) in items.iter().enumerate() {
            let json::Value::Object(_) = &item.value else {
                return Err(ReadError::invalid(
                    path,
                    item.line,
                    format!(
                        "jobs[{index}] must be an object like {{\"p\": 3, \"d\": 10, \"w\": 1}}"
                    ),
                ));
            };
            for (key, node) in item.fields() {
                if !matches!(key, "p" | "d" | "w" | "name" | "id") {
                    return Err(ReadError::invalid(
                        path,
                        node.line,
                        format!("jobs[{index}]: unknown field {key:?} (expected p, d, w)"),
                    ));
                }
            }
            let field = |key: &str, default: Option<i64>| -> Result<(i64, usize), ReadError> {
                match item.field(key) {
                    Some(node) => Ok((
                        integer(node, path, &format!("jobs[{index}].{key}"))?,
                        node.line,
                    )),
                    None => match default {
                        Some(v) => Ok((v, item.line)),
                        None => Err(ReadError::invalid(
                            path,
                            item.line,
                            format!("jobs[{index}] has no {key:?}"),
                        )),
                    },
                }
            };
            let (p, p_line) = field("p", None)?;
            let (d, _) = field("d", None)?;
            let (w, w_line) = field("w", Some(1))?;
            jobs.push((Job::new(p, d, w), p_line, w_line));
        }
    } else if let Some(p_node) = entry.field("p") {
        let column = |key: &str| -> Result<Option<Vec<(i64, usize)>>, ReadError> {
            let Some(node) = entry.field(key) else {
                return Ok(None);
            };
            let json::Value::Array(items) = &node.value else {
                return Err(ReadError::invalid(
                    path,
                    node.line,
                    format!("{key:?} must be a list"),
                ));
            };
            items
                .iter()
                .enumerate()
                .map(|(i, item)| Ok((integer(item, path, &format!("{key}[{i}]"))?, item.line)))
                .collect::<Result<Vec<_>, _>>()
                .map(Some)
        };
        let p = column("p")?.unwrap_or_default();
        let Some(d) = column("d")? else {
            return Err(ReadError::invalid(
                path,
                entry.line,
                "the instance has \"p\" but no \"d\"",
            ));
        };
        let w = column("w")?;
        if d.len() != p.len() || w.as_ref().is_some_and(|w| w.len() != p.len()) {
            return Err(ReadError::invalid(
                path,
                p_node.line,
                "\"p\", \"d\" and \"w\" must have the same length",
            ));
        }
        for j in 0..p.len() {
            let (wj, w_line) = w.as_ref().map_or((1, p[j].1), |w| w[j]);
            jobs.push((Job::new(p[j].0, d[j].0, wj), p[j].1, w_line));
        }
    } else {
        return Err(ReadError::invalid(
            path,
            entry.line,
            "the instance has no \"jobs\" list (expected {\"jobs\": [{\"p\": .., \"d\": .., \"w\": ..}]})",
        ));
    }
    let instance = Instance::try_new(jobs.iter().map(|&(j, _, _)| j).collect()).map_err(|e| {
        let line = match e {
            InstanceError::NonPositiveProcessingTime { job, .. } => jobs[job].1,
            InstanceError::NegativeWeight { job, .. } => jobs[job].2,
            _ => entry.line,
        };
        ReadError::invalid(path, line, e.to_string())
    })?;
    Ok(ReadInstance {
        name,
        line: entry.line,
        instance,
    })
}

fn integer(node: &json::Node, path: &Path, what: &str) -> Result<i64, ReadError> {
    match &node.value {
        json::Value::Number(text) => text
            .parse::<i64>()
            .ok()
            .or_else(|| {
                // Accept integral values written as decimals (10.0, 1e2).
                text.parse::<f64>()
                    .ok()
                    .filter(|v| v.fract() == 0.0 && v.abs() < 9.0e15)
                    .map(|v| v as i64)
            })
            .ok_or_else(|| {
                ReadError::invalid(path, node.line, format!("{what}: {text} is not an integer"))
            }),
        _ => Err(ReadError::invalid(
            path,
            node.line,
            format!("{what} must be an integer"),
        )),
    }
}

/// A small JSON parser that remembers the line of every value, so that errors found after
/// parsing (a zero processing time in job 17) can still name their line. serde_json's
/// `Value` forgets positions.
mod json {
    /// A parsed value and the line where it starts.
    #[derive(Debug)]
    pub struct Node {
        pub line: usize,
        pub value: Value,
    }

    #[derive(Debug)]
    pub enum Value {
        Null,
        Bool,
        /// The number's text, parsed by the caller.
        Number(String),
        String(String),
        Array(Vec<Node>),
        Object(Vec<(String, Node)>),
    }

    impl Node {
        /// The value of `key` if this is an object that has it (the last one if repeated).
        pub fn field(&self, key: &str) -> Option<&Node> {
            match &self.value {
                Value::Object(fields) => {
                    fields.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
                }
                _ => None,
            }
        }

        /// The fields of an object (none otherwise).
        pub fn fields(&self) -> impl Iterator<Item = (&str, &Node)> {
            let fields: &[(String, Node)] = match &self.value {
                Value::Object(fields) => fields,
                _ => &[],
            };
            fields.iter().map(|(k, v)| (k.as_str(), v))
        }
    }

    pub struct Error {
        pub line: usize,
        pub message: String,
    }

    /// Nesting deeper than this is refused rather than risking the stack.
    const MAX_DEPTH: usize = 64;

    pub fn parse(text: &str) -> Result<Node, Error> {
        let mut parser = Parser {
            bytes: text.as_bytes(),
            position: 0,
            line: 1,
        };
        parser.skip_space();
        let node = parser.value(0)?;
        parser.skip_space();
        if parser.position < parser.bytes.len() {
            return Err(parser.error("unexpected text after the JSON document"));
        }
        Ok(node)
    }

    struct Parser<'a> {
        bytes: &'a [u8],
        position: usize,
        line: usize,
    }

    impl Parser<'_> {
        fn error(&self, message: impl Into<String>) -> Error {
            Error {
                line: self.line,
                message: format!("invalid JSON: {}", message.into()),
            }
        }

        fn peek(&self) -> Option<u8> {
            self.bytes.get(self.position).copied()
        }

        fn skip_space(&mut self) {
            while let Some(c) = self.peek() {
                match c {
                    b'\n' => self.line += 1,
                    b' ' | b'\t' | b'\r' => {}
                    _ => return,
                }
                self.position += 1;
            }
        }

        fn expect(&mut self, c: u8) -> Result<(), Error> {
            if self.peek() == Some(c) {
                self.position += 1;
                Ok(())
            } else {
                Err(self.error(format!("expected '{}'", c as char)))
            }
        }

        fn value(&mut self, depth: usize) -> Result<Node, Error> {
            if depth > MAX_DEPTH {
                return Err(self.error("nested too deeply"));
            }
            let line = self.line;
            let value = match self.peek() {
                None => return Err(self.error("unexpected end of file")),
                Some(b'{') => {
                    self.position += 1;
                    let mut fields = Vec::new();
                    self.skip_space();
                    if self.peek() == Some(b'}') {
                        self.position += 1;
                    } else {
                        loop {
                            self.skip_space();
                            if self.peek() != Some(b'"') {
                                return Err(self.error("expected a field name in double quotes"));
                            }
                            let key = self.string()?;
                            self.skip_space();
                            self.expect(b':')?;
                            self.skip_space();
                            let node = self.value(depth + 1)?;
                            fields.push((key, node));
                            self.skip_space();
                            match self.peek() {
                                Some(b',') => self.position += 1,
                                Some(b'}') => {
                                    self.position += 1;
                                    break;
                                }
                                _ => return Err(self.error("expected ',' or '}'")),
                            }
                        }
                    }
                    Value::Object(fields)
                }
                Some(b'[') => {
                    self.position += 1;
                    let mut items = Vec::new();
                    self.skip_space();
                    if self.peek() == Some(b']') {
                        self.position += 1;
                    } else {
                        loop {
                            self.skip_space();
                            items.push(self.value(depth + 1)?);
                            self.skip_space();
                            match self.peek() {
                                Some(b',') => self.position += 1,
                                Some(b']') => {
                                    self.position += 1;
                                    break;
                                }
                                _ => return Err(self.error("expected ',' or ']'")),
                            }
                        }
                    }
                    Value::Array(items)
                }
                Some(b'"') => Value::String(self.string()?),
                Some(b't') => {
                    self.literal("true")?;
                    Value::Bool
                }
                Some(b'f') => {
                    self.literal("false")?;
                    Value::Bool
                }
                Some(b'n') => {
                    self.literal("null")?;
                    Value::Null
                }
                Some(c) if c == b'-' || c.is_ascii_digit() => Value::Number(self.number()?),
                Some(_) => return Err(self.error("expected a value")),
            };
            Ok(Node { line, value })
        }

        fn literal(&mut self, word: &str) -> Result<(), Error> {
            if self.bytes[self.position..].starts_with(word.as_bytes()) {
                self.position += word.len();
                Ok(())
            } else {
                Err(self.error("expected a value"))
            }
        }

        fn number(&mut self) -> Result<String, Error> {
            let start = self.position;
            if self.peek() == Some(b'-') {
                self.position += 1;
            }
            let digits = |p: &mut Self| {
                let from = p.position;
                while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                    p.position += 1;
                }
                p.position > from
            };
            if !digits(self) {
                return Err(self.error("expected digits"));
            }
            if self.peek() == Some(b'.') {
                self.position += 1;
                if !digits(self) {
                    return Err(self.error("expected digits after '.'"));
                }
            }
            if matches!(self.peek(), Some(b'e' | b'E')) {
                self.position += 1;
                if matches!(self.peek(), Some(b'+' | b'-')) {
                    self.position += 1;
                }
                if !digits(self) {
                    return Err(self.error("expected digits in the exponent"));
                }
            }
            // The slice is ASCII digits and signs, so it is valid UTF-8.
            Ok(String::from_utf8_lossy(&self.bytes[start..self.position]).into_owned())
        }

        fn string(&mut self) -> Result<String, Error> {
            self.expect(b'"')?;
            let mut out = Vec::new();
            loop {
                let Some(c) = self.peek() else {
                    return Err(self.error("unterminated string"));
                };
                self.position += 1;
                match c {
                    b'"' => break,
                    b'\n' => return Err(self.error("line break inside a string")),
                    b'\\' => {
                        let Some(e) = self.peek() else {
                            return Err(self.error("unterminated string"));
                        };
                        self.position += 1;
                        match e {
                            b'"' => out.push(b'"'),
                            b'\\' => out.push(b'\\'),
                            b'/' => out.push(b'/'),
                            b'b' => out.push(8),
                            b'f' => out.push(12),
                            b'n' => out.push(b'\n'),
                            b'r' => out.push(b'\r'),
                            b't' => out.push(b'\t'),
                            b'u' => {
                                let code = self.hex4()?;
                                let ch = if (0xD800..0xDC00).contains(&code) {
                                    // A surrogate pair: \uD83D\uDE00.
                                    if self.bytes[self.position..].starts_with(b"\\u") {
                                        self.position += 2;
                                        let low = self.hex4()?;
                                        if !(0xDC00..0xE000).contains(&low) {
                                            return Err(self.error("invalid surrogate pair"));
                                        }
                                        char::from_u32(
                                            0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00),
                                        )
                                    } else {
                                        None
                                    }
                                } else {
                                    char::from_u32(code)
                                };
                                let Some(ch) = ch else {
                                    return Err(self.error("invalid \\u escape"));
                                };
                                let mut buffer = [0u8; 4];
                                out.extend_from_slice(ch.encode_utf8(&mut buffer).as_bytes());
                            }
                            _ => return Err(self.error("invalid escape in a string")),
                        }
                    }
                    c if c < 0x20 => return Err(self.error("control character inside a string")),
                    c => out.push(c),
                }
            }
            // The input is a &str and escapes produce valid UTF-8, so this cannot fail; map
            // the impossible case to an error rather than a panic all the same.
            String::from_utf8(out).map_err(|_| self.error("invalid UTF-8 in a string"))
        }

        fn hex4(&mut self) -> Result<u32, Error> {
            let Some(digits) = self.bytes.get(self.position..self.position + 4) else {
                return Err(self.error("truncated \\u escape"));
            };
            let text = std::str::from_utf8(digits).map_err(|_| self.error("invalid \\u escape"))?;
            let code =
                u32::from_str_radix(text, 16).map_err(|_| self.error("invalid \\u escape"))?;
            self.position += 4;
            Ok(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path() -> &'static Path {
        Path::new("jobs.json")
    }

    #[test]
    fn json_forms() {
        let one = parse_json(r#"{"jobs":[{"p":3,"d":5},{"p":2,"d":1,"w":4}]}"#, path()).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].instance.jobs()[0], Job::new(3, 5, 1));
        assert_eq!(one[0].instance.jobs()[1], Job::new(2, 1, 4));
        let list = parse_json(
            "[{\"name\":\"a\",\"jobs\":[{\"p\":1,\"d\":1}]},\n {\"jobs\":[{\"p\":2,\"d\":-3}]}]",
            path(),
        )
        .unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].name.as_deref(), Some("a"));
        assert_eq!(list[1].line, 2);
        let columns = parse_json(
            r#"{"instances":[{"id":1,"p":[1,2],"w":[3,4],"d":[5,6]}]}"#,
            path(),
        )
        .unwrap();
        assert_eq!(columns[0].instance.jobs()[1], Job::new(2, 6, 4));
    }

    #[test]
    fn json_errors_name_the_line() {
        let text = "{\"jobs\": [\n  {\"p\": 3, \"d\": 5},\n  {\"p\": 0, \"d\": 1}\n]}";
        let e = parse_json(text, path()).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.to_string().starts_with("jobs.json:3: "), "{e}");
        assert!(e.message.contains("processing time 0"), "{e}");
        let e = parse_json("{\"jobs\": [\n{\"p\": 3,, \"d\": 5}]}", path()).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("invalid JSON"), "{e}");
        let e = parse_json("{\"jobs\": [{\"p\": 3.5, \"d\": 5}]}", path()).unwrap_err();
        assert!(e.message.contains("not an integer"), "{e}");
        let e = parse_json("{\"jobs\": [{\"p\": 3}]}", path()).unwrap_err();
        assert!(e.message.contains("no \"d\""), "{e}");
        let e = parse_json("{\"jobs\": []}", path()).unwrap_err();
        assert!(e.message.contains("at least one job"), "{e}");
        let deep = "[".repeat(10_000);
        assert!(parse_json(&deep, path()).is_err());
        for bad in [
            "",
            "{",
            "\"\\u12",
            "[1,]",
            "{\"a\" 1}",
            "nul",
            "-",
            "1.",
            "\"\\ud800\"",
        ] {
            assert!(parse_json(bad, path()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn orlibrary_blocks_and_errors() {
        let text = "1 2\n3 4\n5 6\n7 8\n9 10\n11 12\n";
        let instances = parse_orlibrary(text, Path::new("wt.txt"), 2).unwrap();
        assert_eq!(instances.len(), 2);
        assert_eq!(instances[0].instance.jobs()[1], Job::new(2, 6, 4));
        assert_eq!(instances[1].line, 4);
        let e = parse_orlibrary(text, Path::new("wt.txt"), 5).unwrap_err();
        assert_eq!(e.line, Some(6));
        assert!(e.message.contains("multiple of"), "{e}");
        let e = parse_orlibrary("1 2\n3 x\n5 6", Path::new("wt.txt"), 2).unwrap_err();
        assert_eq!(e.to_string(), "wt.txt:2: \"x\" is not an integer");
        let e = parse_orlibrary("1 0\n3 4\n5 6", Path::new("wt.txt"), 2).unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(
            e.message.contains("instance 1: job 1: processing time 0"),
            "{e}"
        );
        // A number of jobs so large that 3n overflows is an error, not a panic.
        let e = parse_orlibrary("1 2 3", Path::new("wt.txt"), usize::MAX / 2).unwrap_err();
        assert!(e.message.contains("more than any file"), "{e}");
    }
}
