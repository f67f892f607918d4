/** The user's pod-template input, merged over the pod template of the Job the action built. */
import type { V1Job, V1PodTemplateSpec } from '@kubernetes/client-node';

/**
 * The user's pod-template YAML merged over the Job's template: mappings merge key by key, and
 * lists of named things (containers, volumes, env) merge by name, as a strategic merge would.
 */
export function withPodTemplate(job: V1Job, overlay: Readonly<Record<string, unknown>>): V1Job {
  const template = job.spec!.template as unknown as Record<string, unknown>;
  return {
    ...job,
    spec: { ...job.spec!, template: merge(template, overlay) as V1PodTemplateSpec },
  };
}

function merge(base: unknown, overlay: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(overlay)) {
    const named = (items: unknown[]) =>
      items.every((item) => item && typeof item === 'object' && 'name' in (item as object));
    if (!named(base) || !named(overlay)) return overlay;
    const result = [...base] as { name: string }[];
    for (const item of overlay as { name: string }[]) {
      const index = result.findIndex((existing) => existing.name === item.name);
      if (index >= 0) result[index] = merge(result[index], item) as { name: string };
      else result.push(item);
    }
    return result;
  }
  if (isMapping(base) && isMapping(overlay)) {
    const result: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(overlay)) {
      result[key] = key in base ? merge(base[key], value) : value;
    }
    return result;
  }
  return overlay;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
