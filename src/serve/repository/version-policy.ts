// Which versions of a model load, as Triton's version_policy says it: the latest N, all, or specific ones.
import { InvalidOptionError } from '../../errors.js';
import { compareVersions } from '../served-models.js';

/** Triton's `version_policy`, in its JSON form. Default `{ latest: { num_versions: 1 } }`. */
export type VersionPolicy =
  | { readonly latest: { readonly num_versions: number } }
  | { readonly all: Record<string, never> }
  | { readonly specific: { readonly versions: readonly (number | string)[] } };

export const DEFAULT_VERSION_POLICY: VersionPolicy = { latest: { num_versions: 1 } };

/** The versions (of those on disk) the policy loads, lowest first. */
export function selectVersions(policy: VersionPolicy, available: readonly string[]): string[] {
  const sorted = [...available].sort(compareVersions);
  if ('latest' in policy) return sorted.slice(Math.max(0, sorted.length - policy.latest.num_versions));
  if ('all' in policy) return sorted;
  const wanted = new Set(policy.specific.versions.map(String));
  return sorted.filter((v) => wanted.has(v));
}

/** How many READY versions the policy keeps serving when some it wants failed to load (`latest` keeps N). */
export function keepCount(policy: VersionPolicy): number | undefined {
  return 'latest' in policy ? policy.latest.num_versions : undefined;
}

/** Validates a policy from config.json or an option; `where` names it in the error. */
export function parseVersionPolicy(value: unknown, where: string): VersionPolicy {
  const fail = (why: string): never => {
    throw new InvalidOptionError(where, `${why}; write {"latest":{"num_versions":N}}, {"all":{}} or {"specific":{"versions":[1,3]}}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('must be an object');
  const keys = Object.keys(value);
  if (keys.length !== 1) return fail(`must have exactly one of "latest", "all" and "specific", got ${keys.map((k) => `"${k}"`).join(', ') || 'none'}`);
  const record = value as Record<string, unknown>;
  if ('latest' in record) {
    const n = (record.latest as { num_versions?: unknown } | null)?.num_versions;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) return fail(`"latest.num_versions" must be a positive integer, got ${JSON.stringify(n)}`);
    return { latest: { num_versions: n } };
  }
  if ('all' in record) return { all: {} };
  if ('specific' in record) {
    const versions = (record.specific as { versions?: unknown } | null)?.versions;
    if (!Array.isArray(versions) || versions.length === 0 || !versions.every((v) => (typeof v === 'number' && Number.isInteger(v) && v > 0) || (typeof v === 'string' && /^\d+$/.test(v)))) {
      return fail('"specific.versions" must be a non-empty array of version numbers');
    }
    return { specific: { versions: versions as (number | string)[] } };
  }
  return fail(`unknown policy "${keys[0]}"`);
}

/** The CLI's `--version-policy`: `latest:N`, `all` or `specific:1,3`. */
export function parseVersionPolicyFlag(text: string): VersionPolicy {
  const [kind, arg] = text.split(':', 2);
  if (kind === 'all' && arg === undefined) return { all: {} };
  if (kind === 'latest') return parseVersionPolicy({ latest: { num_versions: Number(arg ?? '1') } }, '--version-policy');
  if (kind === 'specific' && arg) return parseVersionPolicy({ specific: { versions: arg.split(',').map((v) => v.trim()) } }, '--version-policy');
  throw new InvalidOptionError('--version-policy', `must be latest:N, all or specific:V1,V2, got "${text}"`);
}
