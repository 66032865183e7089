/**
 * Starts what a member serves over HTTP beside its client port, from its zoo.cfg: the AdminServer
 * (admin.*) and Prometheus's /metrics (metricsProvider.*). `tszk server` and `tszk/server`'s
 * startServer call this once the member runs.
 */
import type { MemberAdminSource } from '../server/adminSource.js';
import type { ParsedConfig } from '../server/config.js';
import type { AdminServerHandle } from './adminServer.js';
import type { MetricsServerHandle } from './prometheus.js';

export interface OperationsHandle {
  /** The AdminServer's port; undefined when admin.enableServer=false. */
  readonly adminPort: number | undefined;
  /** The /metrics port; undefined unless metricsProvider.className names the Prometheus provider. */
  readonly metricsPort: number | undefined;
  close(): Promise<void>;
}

/** Rejects (AdminServerError, naming the port) when a port cannot be bound; nothing stays open then. */
export async function startOperations(cfg: ParsedConfig, member: MemberAdminSource, sysProps: Readonly<Record<string, string>>): Promise<OperationsHandle> {
  let admin: AdminServerHandle | undefined;
  if (cfg.admin.enableServer) {
    // Loaded only when on: its modules (the console, the commands) are no part of a member's start otherwise.
    const { startAdminServer } = await import('./adminServer.js');
    admin = await startAdminServer(cfg.admin, {
      member,
      initialConfig: member.quorum() === undefined ? cfg.text : undefined,
      systemProperties: sysProps,
    });
  }
  let metrics: MetricsServerHandle | undefined;
  if (cfg.prometheus !== undefined) {
    try {
      // prom-client is loaded only by members that serve /metrics.
      const { startMetricsServer } = await import('./prometheus.js');
      metrics = await startMetricsServer(cfg.prometheus, member);
    } catch (e) {
      await admin?.close();
      throw e;
    }
  }
  return {
    adminPort: admin?.port,
    metricsPort: metrics?.port,
    close: async () => {
      await admin?.close();
      await metrics?.close();
    },
  };
}
