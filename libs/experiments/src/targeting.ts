/**
 * Targeting rules, combined with AND. Attribute values are compared with strict equality (no
 * coercion: the number 1 does not equal the string "1"). A missing attribute never satisfies
 * `equals` or `in`, and always satisfies `notIn` (it is not one of the listed values).
 */
export type AttributeValue = string | number | boolean;
export type Attributes = Readonly<Record<string, AttributeValue>>;

export type TargetingRule =
  | { attribute: string; op: 'equals'; value: AttributeValue }
  | { attribute: string; op: 'in' | 'notIn'; values: AttributeValue[] };

export type TargetingPredicate = (attributes: Attributes | undefined) => boolean;

const MATCH_ALL: TargetingPredicate = () => true;

/** The attribute's value, or undefined when absent (own properties only: no prototype lookups). */
function valueOf(attributes: Attributes | undefined, name: string): AttributeValue | undefined {
  return attributes !== undefined && Object.prototype.hasOwnProperty.call(attributes, name)
    ? attributes[name]
    : undefined;
}

export function compileTargeting(rules: readonly TargetingRule[] | undefined): TargetingPredicate {
  if (!rules || rules.length === 0) return MATCH_ALL;
  const checks: TargetingPredicate[] = rules.map((rule) => {
    const name = rule.attribute;
    switch (rule.op) {
      case 'equals': {
        const expected = rule.value;
        return (a) => valueOf(a, name) === expected;
      }
      case 'in': {
        const set = new Set<AttributeValue>(rule.values);
        return (a) => {
          const v = valueOf(a, name);
          return v !== undefined && set.has(v);
        };
      }
      case 'notIn': {
        const set = new Set<AttributeValue>(rule.values);
        return (a) => {
          const v = valueOf(a, name);
          return v === undefined || !set.has(v);
        };
      }
    }
  });
  return (attributes) => {
    for (const check of checks) if (!check(attributes)) return false;
    return true;
  };
}
