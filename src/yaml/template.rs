//! Go template actions (Helm chart templates), with their byte offsets: `{{ … }}`, the trim
//! markers `{{- -}}`, comments `{{/* */}}`, control blocks (`if`/`else`/`with`/`range`/`define`/
//! `block`/`end`) and pipelines (`.Values.a.b | default 1 | quote`, `include "x" . | nindent 4`).
//!
//! A template is not YAML until it is rendered. [`Template::masked`] gives a YAML text of the
//! same length and lines, as the template would look with each action replaced by what it
//! stands for: control actions, comments, assignments and actions on a line of their own (those
//! that emit a block, `include … | nindent N`) become spaces; an action inside a line (a scalar,
//! a key) becomes `_` characters. The YAML layers read that text; [`DocumentActions`] tells
//! validation which values are actions (never flagged) and which mappings an action may add
//! fields to (no "missing required field" there).
//!
//! Why a parser of our own: Go's `text/template` grammar is small, Helm's functions need not be
//! known to find the actions, and the features need byte offsets of every field and string; the
//! crates on offer (gtmpl) execute templates, want every function declared before parsing and
//! give no offsets.

use std::ops::Range;

/// What an action is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActionKind {
    /// `{{/* … */}}`
    Comment,
    If,
    With,
    Range,
    /// `{{ define "name" }}` (the name and its range).
    Define(String, Range<usize>),
    /// `{{ block "name" pipeline }}`
    Block(String, Range<usize>),
    /// `{{ else }}`, `{{ else if … }}`, `{{ else with … }}`
    Else,
    End,
    Break,
    Continue,
    /// `{{ $x := … }}` or `{{ $x = … }}`: prints nothing.
    Assign,
    /// `{{ template "name" … }}`: prints the named template.
    Template(String, Range<usize>),
    /// A pipeline whose value is printed.
    Print,
}

impl ActionKind {
    /// Whether the action prints text into the output.
    pub fn prints(&self) -> bool {
        matches!(
            self,
            ActionKind::Print | ActionKind::Template(..) | ActionKind::Block(..)
        )
    }

    fn opens_block(&self) -> bool {
        matches!(
            self,
            ActionKind::If
                | ActionKind::With
                | ActionKind::Range
                | ActionKind::Define(..)
                | ActionKind::Block(..)
        )
    }

    fn keyword(&self) -> &'static str {
        match self {
            ActionKind::If => "if",
            ActionKind::With => "with",
            ActionKind::Range => "range",
            ActionKind::Define(..) => "define",
            ActionKind::Block(..) => "block",
            _ => "",
        }
    }
}

/// A token of an action's pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    /// A field chain from the dot or a variable: `.Values.a.b`, `$.Values.a`, `$x.name`, `.`.
    Chain {
        /// `None` for the dot, else the variable (`$`, `$x`).
        variable: Option<String>,
        /// Each field and its range.
        fields: Vec<(String, Range<usize>)>,
    },
    /// A string literal's value.
    String(String),
    Identifier(String),
    /// A number or character constant, as written.
    Number(String),
    Pipe,
    Open,
    Close,
    Declare,
    Assign,
    Comma,
}

/// A token and where it is in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned {
    pub token: Token,
    pub range: Range<usize>,
}

/// One action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    /// From `{{` to `}}` included.
    pub range: Range<usize>,
    pub kind: ActionKind,
    pub tokens: Vec<Spanned>,
    /// Nothing but blanks, other actions and a comment share its lines.
    pub own_line: bool,
    /// The column its output starts at when it prints a block: the `nindent N` / `indent N` of
    /// its pipeline, else its own column.
    pub indent: usize,
}

/// A `.Values` path an action reads, and where its fields are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValuesRef {
    pub path: Vec<String>,
    /// The range of each field after `Values`.
    pub ranges: Vec<Range<usize>>,
}

impl ValuesRef {
    /// From the first field to the last.
    pub fn range(&self) -> Range<usize> {
        match (self.ranges.first(), self.ranges.last()) {
            (Some(first), Some(last)) => first.start..last.end,
            _ => 0..0,
        }
    }
}

impl Action {
    /// Every `.Values…` (or `$.Values…`) chain of the action.
    pub fn values_refs(&self) -> impl Iterator<Item = ValuesRef> + '_ {
        self.tokens.iter().filter_map(|t| match &t.token {
            Token::Chain { variable, fields }
                if variable.as_deref().is_none_or(|v| v == "$")
                    && fields.first().is_some_and(|(f, _)| f == "Values") =>
            {
                Some(ValuesRef {
                    path: fields[1..].iter().map(|(f, _)| f.clone()).collect(),
                    ranges: fields[1..].iter().map(|(_, r)| r.clone()).collect(),
                })
            }
            _ => None,
        })
    }

    /// The template names the action includes (`include "x"`, `template "x"`), with the range
    /// of each string literal.
    pub fn included_names(&self) -> Vec<(String, Range<usize>)> {
        let mut names = Vec::new();
        if let ActionKind::Template(name, range) = &self.kind {
            names.push((name.clone(), range.clone()));
        }
        for pair in self.tokens.windows(2) {
            if let (Token::Identifier(f), Token::String(name)) = (&pair[0].token, &pair[1].token)
                && (f == "include" || f == "tpl_include")
            {
                names.push((name.clone(), pair[1].range.clone()));
            }
        }
        names
    }

    /// When the whole pipeline is one `.Values` path, maybe through functions that keep its
    /// value (`quote`, `default`, `toString`, `int`, …): that path.
    pub fn direct_values_path(&self) -> Option<ValuesRef> {
        if self.kind != ActionKind::Print {
            return None;
        }
        let mut refs = self.values_refs();
        let first = refs.next()?;
        if refs.next().is_some() {
            return None;
        }
        let keeps = |name: &str| {
            matches!(
                name,
                "quote"
                    | "squote"
                    | "toString"
                    | "int"
                    | "int64"
                    | "float64"
                    | "toYaml"
                    | "toJson"
                    | "trim"
                    | "lower"
                    | "upper"
                    | "default"
                    | "nindent"
                    | "indent"
                    | "b64enc"
                    | "required"
            )
        };
        let plain = self.tokens.iter().all(|t| match &t.token {
            Token::Identifier(name) => keeps(name),
            Token::Chain { .. } | Token::Pipe | Token::String(_) | Token::Number(_) => true,
            _ => false,
        });
        plain.then_some(first)
    }
}

/// A problem with the template's actions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    pub range: Range<usize>,
    pub message: String,
}

/// The actions of a text, in order, and what is wrong with them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Template {
    pub actions: Vec<Action>,
    pub errors: Vec<TemplateError>,
    /// Each `else` (its action's index) with the `end` of its block (the index, or the number of
    /// actions when the block is not closed).
    elses: Vec<(usize, usize)>,
}

impl Template {
    /// Parses every action of `text`.
    pub fn parse(text: &str) -> Template {
        let bytes = text.as_bytes();
        let mut template = Template::default();
        let mut from = 0;
        while let Some(open) = memchr::memmem::find(&bytes[from..], b"{{").map(|i| from + i) {
            match read_action(text, open) {
                Ok(action) => {
                    from = action.range.end;
                    template.actions.push(action);
                }
                Err((end, message)) => {
                    template.errors.push(TemplateError {
                        range: open..end.max(open + 2),
                        message,
                    });
                    from = end.max(open + 2);
                }
            }
        }
        template.lay_out(text);
        template.check_blocks();
        template
    }

    /// Whether the text at `first` and at `second` (offsets, `first` before) are in different
    /// branches of one `if`/`with`/`range`: an `else` of a block holding both lies between.
    pub fn exclusive(&self, first: usize, second: usize) -> bool {
        self.elses.iter().any(|&(e, end)| {
            let at = self.actions[e].range.start;
            let ends = self.actions.get(end).map_or(usize::MAX, |a| a.range.start);
            first < at && at < second && second < ends
        })
    }

    /// The action holding `offset` (between its braces included).
    pub fn action_at(&self, offset: usize) -> Option<&Action> {
        let i = self.actions.partition_point(|a| a.range.end <= offset);
        self.actions
            .get(i)
            .filter(|a| a.range.start <= offset && offset <= a.range.end)
    }

    /// Sets each action's `own_line` and `indent`.
    fn lay_out(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let ranges: Vec<Range<usize>> = self.actions.iter().map(|a| a.range.clone()).collect();
        let in_action = |at: usize| {
            let i = ranges.partition_point(|r| r.end <= at);
            ranges.get(i).is_some_and(|r| r.start <= at)
        };
        for action in &mut self.actions {
            let line_start = bytes[..action.range.start]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let line_end = memchr::memchr(b'\n', &bytes[action.range.end..])
                .map_or(bytes.len(), |i| action.range.end + i);
            let before = (line_start..action.range.start)
                .all(|at| in_action(at) || matches!(bytes[at], b' ' | b'\t'));
            let mut after = true;
            let mut at = action.range.end;
            while at < line_end {
                if in_action(at) || matches!(bytes[at], b' ' | b'\t' | b'\r') {
                    at += 1;
                } else {
                    // A YAML comment after blanks ends the line.
                    after = bytes[at] == b'#' && matches!(bytes[at - 1], b' ' | b'\t' | b'}');
                    break;
                }
            }
            action.own_line = before && after;
            let column = text[line_start..action.range.start].chars().count();
            action.indent = indent_argument(&action.tokens).unwrap_or(column);
        }
    }

    /// Matches block openers with `end`s and `else`s.
    fn check_blocks(&mut self) {
        let mut open: Vec<usize> = Vec::new();
        // The `else`s of each open block.
        let mut branches: Vec<Vec<usize>> = Vec::new();
        for (i, action) in self.actions.iter().enumerate() {
            match &action.kind {
                kind if kind.opens_block() => {
                    open.push(i);
                    branches.push(Vec::new());
                }
                ActionKind::End => {
                    if let Some(elses) = branches.pop() {
                        self.elses.extend(elses.into_iter().map(|e| (e, i)));
                    }
                    if open.pop().is_none() {
                        self.errors.push(TemplateError {
                            range: action.range.clone(),
                            message: "unexpected `end`: no `if`, `with`, `range`, `define` or `block` is open here".to_string(),
                        });
                    }
                }
                ActionKind::Else => {
                    let fits = open.last().is_some_and(|&o| {
                        matches!(
                            self.actions[o].kind,
                            ActionKind::If | ActionKind::With | ActionKind::Range
                        )
                    });
                    if let Some(elses) = branches.last_mut() {
                        elses.push(i);
                    }
                    if !fits {
                        self.errors.push(TemplateError {
                            range: action.range.clone(),
                            message: "unexpected `else`: no `if`, `with` or `range` is open here"
                                .to_string(),
                        });
                    }
                }
                _ => {}
            }
        }
        for elses in branches {
            let end = self.actions.len();
            self.elses.extend(elses.into_iter().map(|e| (e, end)));
        }
        for i in open {
            let action = &self.actions[i];
            self.errors.push(TemplateError {
                range: action.range.clone(),
                message: format!(
                    "unclosed `{}`: it has no `{{{{ end }}}}`",
                    action.kind.keyword()
                ),
            });
        }
        self.errors.sort_by_key(|e| e.range.start);
    }

    /// `text` as YAML: the same length and line breaks, each action replaced by blanks (when it
    /// prints nothing or sits on its own lines) or by `_` (inside a line: a scalar or a key).
    pub fn masked(&self, text: &str) -> String {
        let mut bytes = text.as_bytes().to_vec();
        for action in &self.actions {
            let filler = if action.kind.prints() && !action.own_line {
                b'_'
            } else {
                b' '
            };
            let mut first_line = true;
            for byte in &mut bytes[action.range.clone()] {
                if matches!(*byte, b'\n' | b'\r') {
                    first_line = false;
                } else {
                    *byte = if first_line { filler } else { b' ' };
                }
            }
        }
        // Unreadable actions (left open) are blanked to the end of their line.
        for error in &self.errors {
            if self.actions.iter().any(|a| a.range == error.range) {
                continue;
            }
            for byte in &mut bytes[error.range.clone()] {
                if !matches!(*byte, b'\n' | b'\r') {
                    *byte = b' ';
                }
            }
        }
        // Whole characters became ASCII, byte for byte: still UTF-8.
        String::from_utf8(bytes).unwrap_or_default()
    }

    /// The actions of the document at `range` of the file, for its validation.
    pub fn document<'t>(&self, masked: &'t str, range: Range<usize>) -> DocumentActions<'t> {
        let start = self.actions.partition_point(|a| a.range.end <= range.start);
        let actions = self.actions[start..]
            .iter()
            .take_while(|a| a.range.start < range.end)
            .map(|a| DocumentAction {
                range: a.range.start.saturating_sub(range.start)
                    ..a.range.end.min(range.end) - range.start,
                block: a.kind.prints() && a.own_line,
                control: !a.kind.prints(),
                indent: a.indent,
            })
            .collect();
        DocumentActions {
            text: &masked[range],
            actions,
        }
    }
}

/// The `N` of a pipeline's `nindent N` or `indent N`.
fn indent_argument(tokens: &[Spanned]) -> Option<usize> {
    tokens
        .windows(2)
        .find_map(|pair| match (&pair[0].token, &pair[1].token) {
            (Token::Identifier(f), Token::Number(n)) if f == "nindent" || f == "indent" => {
                n.parse().ok()
            }
            _ => None,
        })
}

/// An action of one document, relative to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentAction {
    pub range: Range<usize>,
    /// Prints a block on lines of its own (`include … | nindent N`, `toYaml .x`).
    pub block: bool,
    /// Prints nothing (`if`, `end`, comments, assignments).
    pub control: bool,
    pub indent: usize,
}

/// The actions of one document as validation asks about them, with its masked text.
#[derive(Clone, Debug)]
pub struct DocumentActions<'t> {
    text: &'t str,
    pub actions: Vec<DocumentAction>,
}

impl DocumentActions<'_> {
    /// Whether `range` (a key or value of the masked document) is or holds part of an action.
    pub fn overlaps(&self, range: &Range<usize>) -> bool {
        let i = self.actions.partition_point(|a| a.range.end <= range.start);
        self.actions
            .get(i)
            .is_some_and(|a| a.range.start < range.end.max(range.start + 1))
    }

    /// Whether an action may add keys to the block mapping at `range` whose keys are at
    /// `column`: one that prints a block at that indentation, on the mapping's lines or on the
    /// blank lines around it.
    pub fn may_add_keys(&self, range: &Range<usize>, column: usize) -> bool {
        let bytes = self.text.as_bytes();
        let blank = |line: Range<usize>| bytes[line].iter().all(|b| b.is_ascii_whitespace());
        let line_start = |at: usize| {
            bytes[..at.min(bytes.len())]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
        };
        // Blank lines above the mapping's first key.
        let mut start = line_start(range.start);
        while start > 0 {
            let above = line_start(start - 1);
            if !blank(above..start - 1) {
                break;
            }
            start = above;
        }
        // Blank lines below its last value.
        let mut end = memchr::memchr(b'\n', &bytes[range.end.min(bytes.len())..])
            .map_or(bytes.len(), |i| range.end + i);
        while end < bytes.len() {
            let next_end =
                memchr::memchr(b'\n', &bytes[end + 1..]).map_or(bytes.len(), |i| end + 1 + i);
            if !blank(end + 1..next_end) {
                break;
            }
            end = next_end;
        }
        self.actions
            .iter()
            .any(|a| a.block && a.indent == column && start <= a.range.start && a.range.start < end)
    }

    /// Whether a block-printing action indented deeper than `column` sits on the blank lines
    /// right below the line of `at` (it prints the value of the key there).
    pub fn block_below(&self, at: usize, column: usize) -> bool {
        let bytes = self.text.as_bytes();
        let mut end =
            memchr::memchr(b'\n', &bytes[at.min(bytes.len())..]).map_or(bytes.len(), |i| at + i);
        let from = end;
        while end < bytes.len() {
            let next_end =
                memchr::memchr(b'\n', &bytes[end + 1..]).map_or(bytes.len(), |i| end + 1 + i);
            if !bytes[end + 1..next_end]
                .iter()
                .all(|b| b.is_ascii_whitespace())
            {
                break;
            }
            end = next_end;
        }
        self.actions
            .iter()
            .any(|a| a.block && a.indent > column && from <= a.range.start && a.range.start < end)
    }

    /// The column of byte `at`.
    pub fn column(&self, at: usize) -> usize {
        let bytes = self.text.as_bytes();
        let start = bytes[..at.min(bytes.len())]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        self.text[start..at.min(bytes.len())].chars().count()
    }
}

/// Reads the action whose `{{` is at `open`. `Err((where reading stopped, why))` when it cannot
/// be read.
fn read_action(text: &str, open: usize) -> Result<Action, (usize, String)> {
    let bytes = text.as_bytes();
    let mut at = open + 2;
    // `{{- ` trims; `{{-3}}` is the number -3.
    if bytes.get(at) == Some(&b'-') && bytes.get(at + 1).is_some_and(|b| b.is_ascii_whitespace()) {
        at += 1;
    }
    let body_start = at;
    let after_blanks = skip_blanks(bytes, at);
    if bytes[after_blanks..].starts_with(b"/*") {
        let Some(close) = memchr::memmem::find(&bytes[after_blanks + 2..], b"*/") else {
            return Err((
                bytes.len(),
                "unclosed comment: `/*` has no `*/`".to_string(),
            ));
        };
        let after = skip_blanks(bytes, after_blanks + 2 + close + 2);
        let end = closing(bytes, after).ok_or_else(|| {
            (
                line_end(bytes, after),
                "a comment must end the action: `*/}}`".to_string(),
            )
        })?;
        return Ok(Action {
            range: open..end,
            kind: ActionKind::Comment,
            tokens: Vec::new(),
            own_line: false,
            indent: 0,
        });
    }
    let mut tokens = Vec::new();
    let mut at = body_start;
    let end = loop {
        at = skip_blanks(bytes, at);
        if let Some(end) = closing(bytes, at) {
            break end;
        }
        if at >= bytes.len() {
            return Err((
                line_end(bytes, open),
                "unclosed action: `{{` has no `}}`".to_string(),
            ));
        }
        let (token, next) = lex(text, at).map_err(|message| {
            // Past the action's first line, a token that cannot be read means `}}` is missing.
            if memchr::memchr(b'\n', &bytes[open..at]).is_some() {
                (
                    line_end(bytes, open),
                    "unclosed action: `{{` has no `}}`".to_string(),
                )
            } else {
                (line_end(bytes, at), message)
            }
        })?;
        tokens.push(Spanned {
            token,
            range: at..next,
        });
        at = next;
    };
    let kind = classify(&tokens);
    Ok(Action {
        range: open..end,
        kind,
        tokens,
        own_line: false,
        indent: 0,
    })
}

fn skip_blanks(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(|b| b.is_ascii_whitespace()) {
        at += 1;
    }
    at
}

fn line_end(bytes: &[u8], at: usize) -> usize {
    memchr::memchr(b'\n', &bytes[at.min(bytes.len())..]).map_or(bytes.len(), |i| at + i)
}

/// The end of `}}` or `-}}` (after blanks) at `at`.
fn closing(bytes: &[u8], at: usize) -> Option<usize> {
    let rest = &bytes[at.min(bytes.len())..];
    if rest.starts_with(b"}}") {
        Some(at + 2)
    } else if rest.starts_with(b"-}}") && at > 0 && bytes[at - 1].is_ascii_whitespace() {
        Some(at + 3)
    } else {
        None
    }
}

/// One token at `at` (not a blank) and where the next one may start.
fn lex(text: &str, at: usize) -> Result<(Token, usize), String> {
    let bytes = text.as_bytes();
    let ident_end = |from: usize| {
        let mut end = from;
        while bytes
            .get(end)
            .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
        {
            end += 1;
        }
        end
    };
    let fields_from = |mut from: usize| {
        let mut fields = Vec::new();
        while bytes.get(from) == Some(&b'.') {
            let end = ident_end(from + 1);
            if end == from + 1 {
                // A lone dot.
                from += 1;
                break;
            }
            fields.push((text[from + 1..end].to_string(), from + 1..end));
            from = end;
        }
        (fields, from)
    };
    let byte = bytes[at];
    Ok(match byte {
        b'"' => {
            let mut end = at + 1;
            let mut value = String::new();
            loop {
                match bytes.get(end) {
                    None | Some(b'\n') => return Err("unterminated string".to_string()),
                    Some(b'"') => break,
                    Some(b'\\') => {
                        if let Some(c) = text[end + 1..].chars().next() {
                            value.push(match c {
                                'n' => '\n',
                                't' => '\t',
                                other => other,
                            });
                            end += 1 + c.len_utf8();
                        } else {
                            end += 1;
                        }
                    }
                    Some(_) => {
                        let c = text[end..].chars().next().unwrap_or(' ');
                        value.push(c);
                        end += c.len_utf8();
                    }
                }
            }
            (Token::String(value), end + 1)
        }
        b'`' => {
            let Some(close) = memchr::memchr(b'`', &bytes[at + 1..]) else {
                return Err("unterminated raw string".to_string());
            };
            (
                Token::String(text[at + 1..at + 1 + close].to_string()),
                at + close + 2,
            )
        }
        b'\'' => {
            let close = memchr::memchr(b'\'', &bytes[at + 1..])
                .ok_or_else(|| "unterminated character constant".to_string())?;
            (
                Token::Number(text[at..at + close + 2].to_string()),
                at + close + 2,
            )
        }
        b'|' => (Token::Pipe, at + 1),
        b'(' => (Token::Open, at + 1),
        b')' => {
            // `(…).field`
            let (_, end) = fields_from(at + 1);
            (Token::Close, end)
        }
        b',' => (Token::Comma, at + 1),
        b':' if bytes.get(at + 1) == Some(&b'=') => (Token::Declare, at + 2),
        b'=' => (Token::Assign, at + 1),
        b'.' => {
            let (fields, end) = fields_from(at);
            (
                Token::Chain {
                    variable: None,
                    fields,
                },
                end.max(at + 1),
            )
        }
        b'$' => {
            let name_end = ident_end(at + 1);
            let (fields, end) = fields_from(name_end);
            (
                Token::Chain {
                    variable: Some(text[at..name_end].to_string()),
                    fields,
                },
                end,
            )
        }
        b'0'..=b'9' | b'-' | b'+' => {
            let mut end = at + 1;
            while bytes
                .get(end)
                .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
            {
                end += 1;
            }
            (Token::Number(text[at..end].to_string()), end)
        }
        _ if byte.is_ascii_alphabetic() || byte == b'_' || byte >= 0x80 => {
            let end = ident_end(at);
            let end = end.max(at + text[at..].chars().next().map_or(1, char::len_utf8));
            (Token::Identifier(text[at..end].to_string()), end)
        }
        _ => {
            let c = text[at..].chars().next().unwrap_or('?');
            return Err(format!("unexpected `{c}` in the action"));
        }
    })
}

/// What an action is, from its tokens.
fn classify(tokens: &[Spanned]) -> ActionKind {
    let name_after = |i: usize| match tokens.get(i) {
        Some(Spanned {
            token: Token::String(name),
            range,
        }) => (name.clone(), range.clone()),
        _ => (String::new(), 0..0),
    };
    match tokens.first().map(|t| &t.token) {
        Some(Token::Identifier(word)) => match word.as_str() {
            "if" => ActionKind::If,
            "with" => ActionKind::With,
            "range" => ActionKind::Range,
            "else" => ActionKind::Else,
            "end" => ActionKind::End,
            "break" => ActionKind::Break,
            "continue" => ActionKind::Continue,
            "define" => {
                let (name, range) = name_after(1);
                ActionKind::Define(name, range)
            }
            "block" => {
                let (name, range) = name_after(1);
                ActionKind::Block(name, range)
            }
            "template" => {
                let (name, range) = name_after(1);
                ActionKind::Template(name, range)
            }
            _ => ActionKind::Print,
        },
        Some(Token::Chain {
            variable: Some(_), ..
        }) if matches!(
            tokens.get(1).map(|t| &t.token),
            Some(Token::Declare | Token::Assign)
        ) =>
        {
            ActionKind::Assign
        }
        _ => ActionKind::Print,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<ActionKind> {
        Template::parse(text)
            .actions
            .into_iter()
            .map(|a| a.kind)
            .collect()
    }

    #[test]
    fn actions_and_their_kinds() {
        let text = "{{- if .Values.a }}\nx: {{ .Values.b | quote }}\n{{- else }}\n{{/* c */}}\n{{ $x := 1 }}\n{{- end -}}\n{{ template \"t\" . }}\n";
        assert_eq!(
            kinds(text),
            [
                ActionKind::If,
                ActionKind::Print,
                ActionKind::Else,
                ActionKind::Comment,
                ActionKind::Assign,
                ActionKind::End,
                ActionKind::Template(
                    "t".into(),
                    text.find("\"t\"").unwrap()..text.find("\"t\"").unwrap() + 3
                ),
            ]
        );
        let parsed = Template::parse(text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let b = &parsed.actions[1];
        assert_eq!(&text[b.range.clone()], "{{ .Values.b | quote }}");
        assert!(!b.own_line);
        assert!(parsed.actions[0].own_line);
        let refs: Vec<ValuesRef> = b.values_refs().collect();
        assert_eq!(refs[0].path, ["b"]);
        assert_eq!(&text[refs[0].range()], "b");
        assert_eq!(b.direct_values_path().unwrap().path, ["b"]);
    }

    #[test]
    fn braces_in_strings_and_trim_markers() {
        let text = "a: {{ printf \"}}%s\" .x }}\nb: {{-3}}\nc: {{ `raw }}` }}\n";
        let parsed = Template::parse(text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.actions.len(), 3);
        assert_eq!(
            &text[parsed.actions[0].range.clone()],
            "{{ printf \"}}%s\" .x }}"
        );
        assert_eq!(&text[parsed.actions[2].range.clone()], "{{ `raw }}` }}");
    }

    #[test]
    fn errors_name_the_action() {
        let parsed = Template::parse("a: {{ .x\nb: 1\n{{ end }}\n{{ if .y }}\n");
        let messages: Vec<&str> = parsed.errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages[0].starts_with("unclosed action"), "{messages:?}");
        assert!(messages[1].starts_with("unexpected `end`"));
        assert!(messages[2].starts_with("unclosed `if`"));
    }

    #[test]
    fn masking_keeps_offsets_lines_and_yaml() {
        let text = "{{- if .Values.on }}\nmetadata:\n  name: {{ include \"x.name\" . }}\n  labels:\n    {{- include \"x.labels\" . | nindent 4 }}\n  é: \"{{ .Values.é }}\" # c\n{{- end }}\n";
        let parsed = Template::parse(text);
        let masked = parsed.masked(text);
        assert_eq!(masked.len(), text.len());
        assert_eq!(masked.lines().count(), text.lines().count());
        assert!(masked.contains("  name: ________________________\n"));
        assert!(masked.contains("  labels:\n                                           \n"));
        let labels = parsed
            .actions
            .iter()
            .find(|a| {
                a.included_names()
                    .first()
                    .is_some_and(|(n, _)| n == "x.labels")
            })
            .unwrap();
        assert!(labels.own_line);
        assert_eq!(labels.indent, 4);
        assert!(crate::yaml::lint::check(&masked).diagnostics.is_empty());
    }

    #[test]
    fn a_block_action_may_add_keys_to_its_mapping_only() {
        let text = "spec:\n  replicas: 1\n  {{- toYaml .Values.x | nindent 2 }}\nother:\n  a: 1\n";
        let parsed = Template::parse(text);
        let masked = parsed.masked(text);
        let doc = parsed.document(&masked, 0..text.len());
        let spec = text.find("replicas").unwrap();
        assert!(doc.may_add_keys(&(spec..spec + 11), 2));
        let other = text.find("a: 1").unwrap();
        assert!(!doc.may_add_keys(&(other..other + 4), 2));
        assert!(!doc.may_add_keys(&(0..text.len()), 0));
        assert!(doc.overlaps(&(spec + 14..spec + 20)));
    }
}
