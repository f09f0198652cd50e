use super::*;

fn formatted(text: &str, options: &FormatOptions) -> String {
    match format(text, options) {
        Formatted::Text { text, .. } => text,
        Formatted::LeftAlone(why) => panic!("left alone ({why}):\n{text}"),
    }
}

#[test]
fn documents_are_formatted_and_comments_kept() {
    let text = "# head\napiVersion:   v1\nkind: Pod   # the kind\nspec:\n    containers:\n    -   name: web\n        image: 'nginx'\n---\nkind:    Service\n";
    let out = formatted(text, &FormatOptions::default());
    assert_eq!(
        out,
        "# head\napiVersion: v1\nkind: Pod # the kind\nspec:\n  containers:\n    - name: web\n      image: 'nginx'\n---\nkind: Service\n"
    );
    assert_eq!(formatted(&out, &FormatOptions::default()), out);
}

#[test]
fn options_change_sequences_quotes_indent_and_blank_lines() {
    let text = "a:\n  - 'x'\n  - \"y\"\n\n\nb:\n  c: 1\n";
    let options = FormatOptions {
        indent: 4,
        indent_sequences: false,
        quotes: QuoteStyle::Double,
        keep_blank_lines: false,
        ..Default::default()
    };
    assert_eq!(
        formatted(text, &options),
        "a:\n- \"x\"\n- \"y\"\nb:\n    c: 1\n"
    );
    let single = FormatOptions {
        quotes: QuoteStyle::Single,
        ..Default::default()
    };
    assert_eq!(
        formatted(text, &single),
        "a:\n  - 'x'\n  - 'y'\n\nb:\n  c: 1\n"
    );
    assert_eq!(
        formatted(text, &FormatOptions::default()),
        "a:\n  - 'x'\n  - \"y\"\n\nb:\n  c: 1\n",
        "quotes as written, runs of blank lines become one"
    );
}

#[test]
fn block_scalars_keep_their_blank_lines() {
    let text = "script: |\n  one\n\n\n  two\n\n\nnext: 1\n";
    let options = FormatOptions {
        keep_blank_lines: false,
        ..Default::default()
    };
    assert_eq!(
        formatted(text, &options),
        "script: |\n  one\n\n\n  two\nnext: 1\n"
    );
}

#[test]
fn a_file_with_a_syntax_error_or_template_actions_is_left_alone() {
    for text in [
        "a: [1, 2\nb:    3\n",
        "ok:    1\n---\nkey: value: other\n",
        "a:\n\tb: 1\n",
        "metadata:\n  name: {{ .Release.Name }}\nspec:   1\n",
    ] {
        assert!(
            matches!(
                format(text, &FormatOptions::default()),
                Formatted::LeftAlone(_)
            ),
            "{text}"
        );
        assert!(format_edits(text, &FormatOptions::default()).is_empty());
    }
}

#[test]
fn a_byte_order_mark_and_a_missing_final_line_break() {
    let text = "\u{feff}a:    1\n---\nb:   2";
    assert_eq!(
        formatted(text, &FormatOptions::default()),
        "\u{feff}a: 1\n---\nb: 2\n"
    );
}

#[test]
fn range_formatting_touches_only_the_lines_of_the_range() {
    let text = "a:    1\nb:    2\nc:    3\n";
    let edits = range_edits(text, 9..9, &FormatOptions::default(), None);
    assert_eq!(edits, [(8..16, "b: 2\n".to_string())]);
}

#[test]
fn a_big_file_is_formatted_on_threads_as_it_would_be_on_one() {
    let mut text = String::new();
    for i in 0..2_000 {
        text.push_str(&format!(
            "apiVersion:   v1\nkind: ConfigMap\nmetadata:\n    name: c{i}   # comment {i}\ndata:\n    key: 'v{i}'\n---\n"
        ));
    }
    text.push_str("last:    true");
    assert!(text.len() > PARALLEL_MIN);
    let options = FormatOptions::default();
    let whole = formatted(&text, &options);
    let one_by_one: String = crate::yaml::split::split(&text)
        .documents
        .into_iter()
        .map(|range| formatted(&text[range], &options))
        .collect();
    assert_eq!(whole, one_by_one);
    // The edits, document by document, give the same text.
    let mut edited = text.clone();
    for (range, replacement) in format_edits(&text, &options).into_iter().rev() {
        edited.replace_range(range, &replacement);
    }
    assert_eq!(edited, whole);
}

#[test]
fn a_cache_formats_again_only_the_documents_that_changed() {
    let cache = Cache::default();
    let options = FormatOptions::default();
    let text = "a:   1\n---\nb:   2\n---\nc:   3\n";
    assert_eq!(
        format_edits_with(text, &options, Some(&cache)),
        format_edits(text, &options)
    );
    assert_eq!(cache.documents_formatted(), 3);
    let edited = text.replace("b:   2", "b:   20");
    assert_eq!(
        format_edits_with(&edited, &options, Some(&cache)),
        format_edits(&edited, &options)
    );
    assert_eq!(cache.documents_formatted(), 4, "only the edited document");
    let wider = FormatOptions {
        indent: 4,
        ..Default::default()
    };
    format_edits_with(&edited, &wider, Some(&cache));
    assert_eq!(cache.documents_formatted(), 7, "other options: all again");
}

#[test]
fn a_cached_syntax_error_still_leaves_the_file_alone() {
    let cache = Cache::default();
    let text = "ok:    1\n---\nkey: value: other\n";
    for _ in 0..2 {
        assert!(matches!(
            format_with(text, &FormatOptions::default(), Some(&cache)),
            Formatted::LeftAlone(_)
        ));
    }
    assert_eq!(cache.documents_formatted(), 2);
}
