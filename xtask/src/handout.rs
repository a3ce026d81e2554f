//! Answers not in the handout: no solution region of the homework may appear in a page of the
//! book or in a file of the starter, also not with other names. Code is compared by its
//! *shape*: its tokens, with every identifier made `i` and every literal made `0` (keywords and
//! punctuation stay), comments and blank lines left out. A solution is found somewhere when
//! [`WINDOW`] of its lines in a row have the shapes of as many lines in a row there, and those
//! lines say enough ([`MIN_TOKENS`]) not to be a coincidence (four lines of closing braces say
//! nothing).

use std::collections::HashMap;

/// How many lines in a row make a match.
pub const WINDOW: usize = 4;

/// The fewest tokens, brackets and separators not counted, that a window must hold to count:
/// about two lines of real code. Fewer is boilerplate that every probe shares (a struct
/// literal of three fields, a closing `match`).
pub const MIN_TOKENS: usize = 16;

/// Tokens that say nothing about what code does.
const FILLER: [&str; 8] = ["{", "}", "(", ")", "[", "]", ";", ","];

const KEYWORDS: [&str; 38] = [
    "as",
    "async",
    "await",
    "break",
    "const",
    "continue",
    "crate",
    "dyn",
    "else",
    "enum",
    "extern",
    "fn",
    "for",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "pub",
    "ref",
    "return",
    "self",
    "Self",
    "static",
    "struct",
    "super",
    "trait",
    "type",
    "unsafe",
    "use",
    "where",
    "while",
    "yield",
    "macro_rules",
];

/// One line of code that says something, and its shape.
#[derive(Debug, Clone)]
pub struct Line {
    /// 1-based, in its file.
    pub number: usize,
    pub text: String,
    pub shape: Vec<String>,
}

impl Line {
    fn tokens_that_count(&self) -> usize {
        self.shape
            .iter()
            .filter(|t| !FILLER.contains(&t.as_str()))
            .count()
    }
}

/// The lines of `text` that hold code, each with its shape: blank lines, comments, and lines
/// of brackets and separators alone are left out.
///
/// A line here is a statement, not a line of the file: the tokens up to a `;`, a `{` or a `}`,
/// wherever the file breaks them, so that code formatted another way has the same lines. Each
/// is numbered and quoted by the line of the file where it starts.
pub fn code_lines(text: &str) -> Vec<Line> {
    let mut in_comment = false;
    let mut lines = Vec::new();
    let mut current: Option<Line> = None;
    // Inside `[...]`, a `;` is an array's length, not the end of a statement.
    let mut brackets = 0usize;
    for (i, line) in text.lines().enumerate() {
        for token in collapse_paths(shape(line, &mut in_comment)) {
            match token.as_str() {
                "[" => brackets += 1,
                "]" => brackets = brackets.saturating_sub(1),
                _ => {}
            }
            let ends = matches!(token.as_str(), "{" | "}") || (token == ";" && brackets == 0);
            let open = current.get_or_insert_with(|| Line {
                number: i + 1,
                text: line.trim().to_string(),
                shape: Vec::new(),
            });
            open.shape.push(token);
            if ends {
                lines.extend(current.take());
            }
        }
    }
    lines.extend(current.take());
    lines.retain(|l| l.shape.iter().any(|t| !FILLER.contains(&t.as_str())));
    lines
}

/// A path is a name: `tokio::spawn`, `smol::net::TcpStream::connect` and `spawn` are alike.
fn collapse_paths(tokens: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    for token in tokens {
        let n = out.len();
        if token == "i" && n >= 3 && out[n - 1] == ":" && out[n - 2] == ":" && out[n - 3] == "i" {
            out.truncate(n - 2);
        } else {
            out.push(token);
        }
    }
    out
}

/// The tokens of one line, identifiers as `i` and literals as `0`. `in_comment` carries a
/// block comment from one line to the next.
fn shape(line: &str, in_comment: &mut bool) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if *in_comment {
            if c == '*' && next == Some('/') {
                *in_comment = false;
                i += 1;
            }
            i += 1;
        } else if c == '/' && next == Some('/') {
            break;
        } else if c == '/' && next == Some('*') {
            *in_comment = true;
            i += 2;
        } else if c.is_whitespace() {
            i += 1;
        } else if let Some(end) = string_literal(&chars, i) {
            tokens.push("0".into());
            i = end;
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            tokens.push(match word.as_str() {
                "true" | "false" => "0".into(),
                w if KEYWORDS.contains(&w) => word,
                _ => "i".into(),
            });
        } else if c.is_ascii_digit() {
            // 1_000, 0u8, 0x1f, 1.5 (but not the `..` of `0..n`)
            while i < chars.len()
                && (chars[i].is_alphanumeric()
                    || chars[i] == '_'
                    || (chars[i] == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)))
            {
                i += 1;
            }
            tokens.push("0".into());
        } else if c == '\'' {
            i = char_or_lifetime(&chars, i, &mut tokens);
        } else {
            tokens.push(c.to_string());
            i += 1;
        }
    }
    tokens
}

/// Where a string literal that starts at `i` ends (`"..."`, `b"..."`, `r#"..."#`, `br"..."`),
/// or `None` if none starts there. A string the line does not close ends with the line.
fn string_literal(chars: &[char], i: usize) -> Option<usize> {
    let mut j = i;
    if chars[j] == 'b' {
        j += 1;
    }
    let raw = chars.get(j) == Some(&'r');
    if raw {
        j += 1;
    }
    let mut hashes = 0;
    while raw && chars.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    if chars.get(j) != Some(&'"') || (j > i && !raw && chars[i] != 'b') {
        return None;
    }
    j += 1;
    while j < chars.len() {
        match chars[j] {
            '\\' if !raw => j += 2,
            '"' if chars[j + 1..]
                .iter()
                .take(hashes)
                .filter(|c| **c == '#')
                .count()
                == hashes =>
            {
                return Some(j + 1 + hashes);
            }
            _ => j += 1,
        }
    }
    Some(chars.len())
}

/// A char literal (`'a'`, `'\n'`) is a literal; a lifetime (`'a`) is a quote and a name.
fn char_or_lifetime(chars: &[char], i: usize, tokens: &mut Vec<String>) -> usize {
    let escaped = chars.get(i + 1) == Some(&'\\');
    let close = if escaped {
        chars[i + 2..]
            .iter()
            .position(|c| *c == '\'')
            .map(|p| i + 2 + p)
    } else if chars.get(i + 2) == Some(&'\'') {
        Some(i + 2)
    } else {
        None
    };
    match close {
        Some(end) => {
            tokens.push("0".into());
            end + 1
        }
        None => {
            tokens.push("'".into());
            i + 1
        }
    }
}

/// The solution of one region, as lines of code.
#[derive(Debug)]
pub struct Answer {
    pub task: u32,
    /// Where it is, from the workspace's root.
    pub file: String,
    pub lines: Vec<Line>,
}

/// The solution regions of `source` (the lines between `// BEGIN SOLUTION` and `// STARTER`
/// or `// END SOLUTION`), with their line numbers in `source`.
pub fn answers(file: &str, source: &str) -> Vec<Answer> {
    let all = code_lines(source);
    let mut found = Vec::new();
    let mut current: Option<(u32, usize)> = None;
    for (i, raw) in source.lines().enumerate() {
        let t = raw.trim();
        if let Some(rest) = t.strip_prefix("// BEGIN SOLUTION Task ") {
            let task = rest.split(':').next().and_then(|n| n.trim().parse().ok());
            current = task.map(|task| (task, i + 1));
        } else if t == "// STARTER" || t == "// END SOLUTION" {
            if let Some((task, from)) = current.take() {
                let lines = all
                    .iter()
                    .filter(|l| l.number > from && l.number <= i)
                    .cloned()
                    .collect();
                found.push(Answer {
                    task,
                    file: file.to_string(),
                    lines,
                });
            }
        }
    }
    found
}

/// A text to look in, its windows of lines indexed by shape.
#[derive(Debug)]
pub struct Place {
    pub name: String,
    lines: Vec<Line>,
    windows: HashMap<Vec<String>, usize>,
}

impl Place {
    pub fn new(name: &str, text: &str) -> Place {
        let lines = code_lines(text);
        let mut windows = HashMap::new();
        for (i, w) in lines.windows(WINDOW).enumerate() {
            windows.entry(window_key(w)).or_insert(i);
        }
        Place {
            name: name.to_string(),
            lines,
            windows,
        }
    }

    /// Where `answer` appears here, said in one line; `None` if it does not.
    pub fn find(&self, answer: &Answer) -> Option<String> {
        for w in answer.lines.windows(WINDOW) {
            if w.iter().map(Line::tokens_that_count).sum::<usize>() < MIN_TOKENS {
                continue;
            }
            if let Some(&at) = self.windows.get(&window_key(w)) {
                let there = &self.lines[at];
                return Some(format!(
                    "task {}'s solution ({}:{}, `{}`) is in {} at line {}: `{}`",
                    answer.task,
                    answer.file,
                    w[0].number,
                    w[0].text,
                    self.name,
                    there.number,
                    there.text
                ));
            }
        }
        None
    }
}

fn window_key(lines: &[Line]) -> Vec<String> {
    lines.iter().map(|l| l.shape.join(" ")).collect()
}

/// The text of an HTML page as a reader sees it: tags dropped, entities decoded, lines kept
/// (the code blocks of a page are its lines).
pub fn html_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shapes(text: &str) -> Vec<String> {
        code_lines(text).iter().map(|l| l.shape.join(" ")).collect()
    }

    #[test]
    fn names_and_literals_are_made_alike() {
        assert_eq!(
            shapes("let mut stream = TcpStream::connect(target.dial).await?; // why\n"),
            ["let mut i = i ( i . i ) . await ? ;"]
        );
        assert_eq!(
            shapes("let s = smol::net::TcpStream::connect(\n    t.addr,\n)\n.await?;"),
            ["let i = i ( i . i , ) . await ? ;"],
            "a path is a name, and a statement is a line however it is broken"
        );
        assert_eq!(
            shapes("let n = s.read(&mut buf[..8], b\"x\\\"y\", 'a', 0u8, 1.5).await;"),
            shapes("let m = t.recv(&mut out[..9], r#\"z\"#, '\\n', 7, 2.0).await;")
        );
        // A lifetime is not a char literal.
        assert_eq!(
            shapes("fn f<'a>(x: &'a str) {}"),
            ["fn i < ' i > ( i : & ' i i ) {"]
        );
    }

    #[test]
    fn comments_blank_lines_and_closing_brackets_say_nothing() {
        let text = "a();\n\n// b();\n/* c();\n d(); */ e();\n    }\n  });\nf();\n";
        let lines = code_lines(text);
        let numbers: Vec<usize> = lines.iter().map(|l| l.number).collect();
        assert_eq!(numbers, [1, 5, 8]);
        let shapes: Vec<String> = lines.iter().map(|l| l.shape.join(" ")).collect();
        assert_eq!(shapes, ["i ( ) ;", "i ( ) ;", "i ( ) ;"]);
    }

    #[test]
    fn a_renamed_solution_is_found_and_boilerplate_is_not() {
        let source = "fn x() {\n    // BEGIN SOLUTION Task 2: hint\n    let mut stream = TcpStream::connect(target.dial).await?;\n    stream.write_all(&target.request()).await?;\n    let mut buf = [0u8; 1024];\n    loop {\n        let n = stream.read(&mut buf).await?;\n    }\n    // STARTER\n    // todo!()\n    // END SOLUTION\n}\n";
        let answers = answers("lib.rs", source);
        assert_eq!(answers.len(), 1);
        assert_eq!(answers[0].lines.len(), 5);
        let renamed = "<pre><code>let mut s = smol::net::TcpStream::connect(t.addr).await?;\ns.write_all(&amp;t.bytes()).await?;\nlet mut b = [0; 512];\nloop {\n    let k = s.read(&amp;mut b).await?;\n}</code></pre>";
        // Three lines alike in a row are not enough.
        let blocking = renamed
            .replace("(&amp;mut b).await?", "(&amp;mut b)?")
            .replace("loop {", "while go {");
        let page = Place::new("async.html", &html_text(&blocking));
        assert_eq!(page.find(&answers[0]), None);
        let found = Place::new("async.html", &html_text(renamed)).find(&answers[0]);
        assert!(
            found
                .as_deref()
                .is_some_and(|f| f.contains("task 2's solution (lib.rs:3")
                    && f.contains("async.html at line 1")),
            "{found:?}"
        );
        let boilerplate = "fn x() {\n// BEGIN SOLUTION Task 2: h\nFinding {\ntarget,\noutcome,\nelapsed: started.elapsed(),\n}\n// END SOLUTION\n}\n";
        let answers = answers_of(boilerplate);
        let page = Place::new(
            "p",
            "Finding {\ntarget,\noutcome,\nelapsed: started.elapsed(),\n}\n",
        );
        assert_eq!(page.find(&answers[0]), None, "too little to be an answer");
    }

    fn answers_of(source: &str) -> Vec<Answer> {
        answers("f.rs", source)
    }
}
