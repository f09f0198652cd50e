//! Helm charts: templates read as YAML without false errors (`template`), `.Values` and
//! `include` intelligence from the chart (`values`), `values.yaml` against
//! `values.schema.json` (`values_schema`), and findings on the rendered chart mapped back to the
//! template line (`rendered`).

pub mod rendered;
pub mod template;
pub mod values;
pub mod values_schema;
