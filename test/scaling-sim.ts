/**
 * A simulation of the scaling rule the chart renders for a worker pool (KEDA in front of the
 * HPA), pure and step by step, so a test can feed it work over time and check what it would do
 * to busy pods. What it models, per KEDA's and the HPA's documented behaviour:
 * - the metric: the ScaledObject's scalingModifiers formula over its triggers' values (`queued`:
 *   the Temporal backlog, `running`: busy slots), or the Temporal trigger alone without modifiers;
 * - the HPA's recommendation, ceil(metric / target), clamped to min..max;
 * - scale-down: the highest recommendation in the stabilization window, and at most `value` pods
 *   removed per `periodSeconds` (the Pods policy);
 * - KEDA's own activation: below the activation target for `cooldownPeriod`, the pool goes to
 *   minReplicaCount 0 (bypassing the HPA), and back to one pod when active again.
 * Scale-up is immediate (the HPA's default allows doubling every 15 s).
 */

/** The rule's parameters, as read from a rendered ScaledObject. */
export interface ScalingRule {
  minReplicas: number;
  maxReplicas: number;
  pollingInterval: number;
  cooldownPeriod: number;
  /** Trigger names summed into the metric (`queued`, `running`). */
  terms: string[];
  target: number;
  activationTarget: number;
  stabilizationWindowSeconds: number;
  scaleDownPods: number;
  scaleDownPeriodSeconds: number;
}

/** One poll: activities waiting in the queue and activities running on the pool's pods. */
export interface Load {
  queued: number;
  running: number;
}

export interface Tick extends Load {
  t: number;
  replicas: number;
  /** Pods with at least one activity, worst case: Temporal spreads activities over the pods. */
  busyPods: number;
}

type ScaledObjectSpec = {
  minReplicaCount: number;
  maxReplicaCount: number;
  pollingInterval: number;
  cooldownPeriod: number;
  advanced?: {
    horizontalPodAutoscalerConfig?: {
      behavior?: {
        scaleDown?: {
          stabilizationWindowSeconds: number;
          policies: Array<{ type: string; value: number; periodSeconds: number }>;
        };
      };
    };
    scalingModifiers?: { formula: string; target: string; activationTarget?: string };
  };
  triggers: Array<{ type: string; name?: string; metadata: Record<string, string> }>;
};

/** The rule of a rendered ScaledObject's spec (throws on a shape the simulation does not model). */
export function ruleOf(spec: ScaledObjectSpec): ScalingRule {
  const down = spec.advanced?.horizontalPodAutoscalerConfig?.behavior?.scaleDown;
  if (!down) throw new Error('no scaleDown behavior rendered');
  if (down.policies.length !== 1 || down.policies[0]!.type !== 'Pods') throw new Error('one Pods policy expected');
  const modifiers = spec.advanced?.scalingModifiers;
  const temporal = spec.triggers.find((t) => t.type === 'temporal');
  if (!temporal) throw new Error('no temporal trigger');
  const terms = modifiers ? modifiers.formula.split('+').map((s) => s.trim()) : [temporal.name ?? 'queued'];
  for (const term of terms)
    if (!spec.triggers.some((t) => t.name === term)) throw new Error(`formula names no trigger ${term}`);
  return {
    minReplicas: spec.minReplicaCount,
    maxReplicas: spec.maxReplicaCount,
    pollingInterval: spec.pollingInterval,
    cooldownPeriod: spec.cooldownPeriod,
    terms: terms.map((term) => (spec.triggers.find((t) => t.name === term)!.type === 'temporal' ? 'queued' : term)),
    target: Number(modifiers ? modifiers.target : temporal.metadata.targetQueueSize),
    activationTarget: Number(
      modifiers ? (modifiers.activationTarget ?? 0) : temporal.metadata.activationTargetQueueSize,
    ),
    stabilizationWindowSeconds: down.stabilizationWindowSeconds,
    scaleDownPods: down.policies[0]!.value,
    scaleDownPeriodSeconds: down.policies[0]!.periodSeconds,
  };
}

/**
 * Runs the rule over the pool's demand: `work(t)` activities present at time t (seconds). Those
 * the pods' slots can hold run, the rest wait in the queue. Returns every poll's state, taken
 * after the scaling decision (so `busyPods > replicas` means a scale-down stopped a busy pod).
 */
export function simulate(rule: ScalingRule, slotsPerPod: number, work: (t: number) => number, until: number): Tick[] {
  const ticks: Tick[] = [];
  let replicas = rule.minReplicas;
  let inactiveSince = 0;
  const recommendations: Array<{ t: number; n: number }> = [];
  const removals: Array<{ t: number; n: number }> = [];
  for (let t = 0; t <= until; t += rule.pollingInterval) {
    const present = work(t);
    const running = Math.min(present, replicas * slotsPerPod);
    const load: Load = { queued: present - running, running };
    const metric = rule.terms.reduce((sum, term) => sum + (term === 'queued' ? load.queued : load.running), 0);
    const busyBefore = Math.min(running, replicas);
    if (metric > rule.activationTarget) inactiveSince = t;
    let next: number;
    if (replicas === 0) next = metric > rule.activationTarget ? 1 : 0;
    else if (rule.minReplicas === 0 && t - inactiveSince >= rule.cooldownPeriod) next = 0;
    else {
      const recommended = Math.min(rule.maxReplicas, Math.max(rule.minReplicas, 1, Math.ceil(metric / rule.target)));
      recommendations.push({ t, n: recommended });
      const window = recommendations.filter((r) => r.t > t - rule.stabilizationWindowSeconds).map((r) => r.n);
      // Scale-down follows the highest recommendation of the window; scale-up the latest.
      const stabilized = recommended < replicas ? Math.min(replicas, Math.max(...window)) : recommended;
      const removedInPeriod = removals
        .filter((r) => r.t > t - rule.scaleDownPeriodSeconds)
        .reduce((sum, r) => sum + r.n, 0);
      const floor = replicas - Math.max(0, rule.scaleDownPods - removedInPeriod);
      next = stabilized >= replicas ? stabilized : Math.max(stabilized, floor);
    }
    if (next < replicas) removals.push({ t, n: replicas - next });
    replicas = next;
    ticks.push({ t, ...load, replicas, busyPods: busyBefore });
  }
  return ticks;
}
