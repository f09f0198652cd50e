import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeRules, RULE_GROUPS, withRuleGroup } from '../src/rules';

test('enabling a group adds it to `enable` and takes it out of `disable`, keeping the rest', () => {
  assert.deepEqual(withRuleGroup(undefined, 'security', true), { enable: ['security'], disable: [] });
  assert.deepEqual(withRuleGroup({ enable: ['security'], disable: ['reliability', 'latest-tag'], severity: { 'ssh-port': 'off' } }, 'reliability', true), {
    enable: ['security', 'reliability'],
    disable: ['latest-tag'],
    severity: { 'ssh-port': 'off' },
  });
  assert.deepEqual(withRuleGroup({ enable: ['security'] }, 'security', true), { enable: ['security'], disable: [] }, 'no duplicates');
});

test('disabling a group adds it to `disable` and takes it out of `enable`', () => {
  assert.deepEqual(withRuleGroup({ enable: ['security', 'conventions'] }, 'conventions', false), { enable: ['security'], disable: ['conventions'] });
  assert.deepEqual(withRuleGroup({}, 'all', false), { disable: ['all'], enable: [] });
});

test('`false` (every rule off): disabling keeps it, enabling brings the rules back with the group', () => {
  assert.equal(withRuleGroup(false, 'security', false), false);
  assert.deepEqual(withRuleGroup(false, 'security', true), { enable: ['security'] });
});

test('the groups offered and the summary of the setting', () => {
  assert.deepEqual([...RULE_GROUPS], ['security', 'reliability', 'references', 'conventions', 'all']);
  assert.equal(describeRules(undefined), "kube-linter's defaults");
  assert.equal(describeRules(false), 'all rules off');
  assert.equal(describeRules({ enable: ['security'], disable: ['all'] }), 'enabled: security; disabled: all');
});
