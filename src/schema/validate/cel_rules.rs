//! CRD validation rules (`x-kubernetes-validations`), evaluated offline with the `cel` crate.
//!
//! What is evaluated: rules about `self` alone (`self > 0`, `self.min <= self.max`,
//! `has(self.x)`, `self.all(...)`, string and list functions). What is left to the apiserver
//! (dry-run): transition rules (`oldSelf`), rules the crate cannot compile (optional syntax
//! `?.`) or evaluate (Kubernetes' own libraries: `quantity()`, `url()`, `isSorted()`, ...), and
//! rules longer than [`MAX_RULE_LENGTH`]. A rule that cannot be evaluated is skipped silently:
//! only a definite `false` is reported.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use cel::objects::{Key, Map};
use cel::{Context, Program, Value as Cel};
use serde_json::Value;

use crate::schema::openapi::ValidationRule;

/// Longer rules are not compiled here (the parser recurses; the apiserver bounds cost anyway).
pub const MAX_RULE_LENGTH: usize = 2048;

/// What a rule says about a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    /// The rule evaluated to false: the message to show.
    Failed(String),
    /// Not evaluated offline (see the module docs).
    Skipped,
}

thread_local! {
    /// Compiled rules by their text (`None`: cannot be evaluated offline).
    static PROGRAMS: RefCell<HashMap<String, Option<Rc<Program>>>> = RefCell::new(HashMap::new());
}

fn program(rule: &str) -> Option<Rc<Program>> {
    PROGRAMS.with_borrow_mut(|programs| {
        if programs.len() > 4096 {
            programs.clear();
        }
        programs
            .entry(rule.to_string())
            .or_insert_with(|| compile(rule).map(Rc::new))
            .clone()
    })
}

fn compile(rule: &str) -> Option<Program> {
    if rule.len() > MAX_RULE_LENGTH || nesting(rule) > 64 {
        return None;
    }
    let compiled = std::panic::catch_unwind(|| Program::compile(rule))
        .ok()?
        .ok()?;
    let references = compiled.references();
    let variables = references.variables();
    // Transition rules compare with the stored object: only the apiserver has it.
    if variables.contains(&"oldSelf") {
        return None;
    }
    Some(compiled)
}

fn nesting(rule: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for c in rule.chars() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Evaluates `rule` with `self` bound to `value`.
pub fn evaluate(rule: &ValidationRule, value: &Value) -> Outcome {
    let Some(program) = program(&rule.rule) else {
        return Outcome::Skipped;
    };
    let mut context = Context::default();
    context.add_variable_from_value("self", to_cel(value));
    let result =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| program.execute(&context)));
    match result {
        Ok(Ok(Cel::Bool(true))) => Outcome::Passed,
        Ok(Ok(Cel::Bool(false))) => Outcome::Failed(failure_message(rule, &context)),
        _ => Outcome::Skipped,
    }
}

/// The rule's messageExpression (when it evaluates to a non-empty string), else its message,
/// else the apiserver's default wording.
fn failure_message(rule: &ValidationRule, context: &Context) -> String {
    let expressed = rule
        .message_expression
        .as_deref()
        .and_then(program)
        .and_then(|program| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| program.execute(context))).ok()
        });
    if let Some(Ok(Cel::String(text))) = expressed
        && !text.trim().is_empty()
    {
        return text.to_string();
    }
    match rule.message.as_deref().map(str::trim) {
        Some(message) if !message.is_empty() => message.to_string(),
        _ => format!("failed rule: {}", rule.rule),
    }
}

/// JSON as CEL sees a Kubernetes object: integers are `int`, objects are maps with string keys.
fn to_cel(value: &Value) -> Cel {
    match value {
        Value::Null => Cel::Null,
        Value::Bool(b) => Cel::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Cel::Int(i),
            None => match n.as_u64() {
                Some(u) => Cel::UInt(u),
                None => Cel::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
        },
        Value::String(s) => Cel::String(Arc::new(s.clone())),
        Value::Array(items) => Cel::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Object(map) => Cel::Map(Map {
            map: Arc::new(
                map.iter()
                    .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                    .collect(),
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(text: &str) -> ValidationRule {
        ValidationRule {
            rule: text.to_string(),
            message: Some("nope".to_string()),
            ..ValidationRule::default()
        }
    }

    #[test]
    fn kubernetes_rules_evaluate() {
        let failed = Outcome::Failed("nope".to_string());
        assert_eq!(evaluate(&rule("self > 0"), &json!(-3)), failed);
        assert_eq!(evaluate(&rule("self > 0"), &json!(3)), Outcome::Passed);
        let multiple = rule("!has(self.other_value) || self.other_value % self.value == 0");
        assert_eq!(
            evaluate(&multiple, &json!({"value": 3, "other_value": 8})),
            failed
        );
        assert_eq!(evaluate(&multiple, &json!({"value": 3})), Outcome::Passed);
        let ordered = rule("self.minReplicas <= self.replicas");
        assert_eq!(
            evaluate(&ordered, &json!({"minReplicas": 3, "replicas": 2})),
            failed
        );
        let all = rule("self.all(x, x.size() < 5)");
        assert_eq!(evaluate(&all, &json!(["a", "bbbbbb"])), failed);
        // Integers are CEL ints, so arithmetic with literals works.
        let doubled = rule("self.map(x, x * 2).all(y, y > 1)");
        assert_eq!(evaluate(&doubled, &json!([1, 2])), Outcome::Passed);
        assert_eq!(
            evaluate(&rule("type(self) == int"), &json!(1)),
            Outcome::Passed
        );
    }

    #[test]
    fn what_cannot_be_evaluated_offline_is_skipped() {
        for text in [
            "self == oldSelf",
            "self.?x.orValue(1) == 1",
            "quantity(self).isGreaterThan(quantity('1'))",
            "self.x > 1",
            "(((((",
        ] {
            assert_eq!(evaluate(&rule(text), &json!(5)), Outcome::Skipped, "{text}");
        }
        let deep = format!("{}1{}", "(".repeat(500), ")".repeat(500));
        assert_eq!(evaluate(&rule(&deep), &json!(1)), Outcome::Skipped);
        let expressed = ValidationRule {
            rule: "self < 1".to_string(),
            message_expression: Some("'got ' + string(self)".to_string()),
            ..ValidationRule::default()
        };
        assert_eq!(
            evaluate(&expressed, &json!(2)),
            Outcome::Failed("got 2".to_string())
        );
        let unnamed = ValidationRule {
            rule: "self < 1".to_string(),
            ..ValidationRule::default()
        };
        assert_eq!(
            evaluate(&unnamed, &json!(2)),
            Outcome::Failed("failed rule: self < 1".to_string())
        );
    }
}
