// The `kube-lsp.rules` setting after turning a rule group on or off (the commands "Enable rule
// group" / "Disable rule group"). Pure, so it is unit-tested. `disable` is applied after `enable`
// by the server (docs/rules.md), so a group is taken out of one list when put in the other.

export const RULE_GROUPS = ['security', 'reliability', 'references', 'conventions', 'all'] as const;

export interface RulesObject {
  enable?: string[];
  disable?: string[];
  [other: string]: unknown;
}

/** `rules` is the setting's value: an object, `false` (every rule off) or unset. */
export function withRuleGroup(rules: unknown, group: string, on: boolean): RulesObject | false {
  if (rules === false) {
    // Everything is off: turning a group on brings the rules back (kube-linter's defaults) with it.
    return on ? { enable: [group] } : false;
  }
  const current: RulesObject = rules && typeof rules === 'object' ? { ...(rules as RulesObject) } : {};
  const list = (value: unknown) => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);
  const [into, from] = on ? ['enable', 'disable'] : ['disable', 'enable'];
  const added = list(current[into]);
  if (!added.includes(group)) {
    added.push(group);
  }
  current[into] = added;
  current[from] = list(current[from]).filter((item) => item !== group);
  return current;
}

/** A one-line summary of the setting for the quick pick's placeholder. */
export function describeRules(rules: unknown): string {
  if (rules === false) {
    return 'all rules off';
  }
  const value = (rules && typeof rules === 'object' ? rules : {}) as RulesObject;
  const part = (name: string, items: unknown) => (Array.isArray(items) && items.length ? `${name}: ${items.join(', ')}` : '');
  return [part('enabled', value.enable), part('disabled', value.disable)].filter(Boolean).join('; ') || "kube-linter's defaults";
}
