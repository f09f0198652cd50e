//! Tests of the kustomize checks on real files in a temporary folder.
