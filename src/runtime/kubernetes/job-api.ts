/** The calls on a run's Job and pods that more than one part makes: delete, wait, mark ready. */
import { type Cluster, statusOf } from './client.js';
import { execScript } from './exec.js';
import { KEEPER_CONTAINER, READY_MARKER } from './keeper.js';
import { jobPodSelector } from './pods.js';

/** Marks the keeper ready when there is nothing to send. */
export async function execReady(cluster: Cluster, pod: string): Promise<void> {
  await execScript(cluster, pod, KEEPER_CONTAINER, `touch ${READY_MARKER}`);
}

/** Whether the object was there to delete. */
export async function deletedIfAny(call: () => Promise<unknown>): Promise<boolean> {
  try {
    await call();
    return true;
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
    return false;
  }
}

export async function ignoreNotFound(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
  }
}

/** Deletes a Job and, in the foreground, its pods, giving them graceSeconds to stop. */
export async function deleteJob(
  cluster: Cluster,
  name: string,
  graceSeconds: number,
): Promise<void> {
  await ignoreNotFound(() =>
    cluster.batch.deleteNamespacedJob({
      name,
      namespace: cluster.namespace,
      propagationPolicy: 'Foreground',
      gracePeriodSeconds: graceSeconds,
    }),
  );
  // Foreground deletion waits for the pods, which keep their own grace period: shorten it.
  const pods = await cluster.core.listNamespacedPod({
    namespace: cluster.namespace,
    labelSelector: jobPodSelector(name),
  });
  await Promise.all(
    pods.items.map((pod) =>
      ignoreNotFound(() =>
        cluster.core.deleteNamespacedPod({
          name: pod.metadata!.name!,
          namespace: cluster.namespace,
          gracePeriodSeconds: graceSeconds,
        }),
      ),
    ),
  );
}

export async function waitGone(cluster: Cluster, job: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const exists = await cluster.batch
      .readNamespacedJob({ name: job, namespace: cluster.namespace })
      .then(
        () => true,
        (error: unknown) => statusOf(error) !== 404,
      );
    const pods = await cluster.core.listNamespacedPod({
      namespace: cluster.namespace,
      labelSelector: jobPodSelector(job),
    });
    if (!exists && pods.items.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`Job ${job} and its pods were still there ${ms / 1000}s after deletion`);
}
