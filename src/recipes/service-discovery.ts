/**
 * ServiceDiscovery in curator-x-discovery's layout: an instance is the node
 * `<basePath>/<name>/<id>` holding ServiceInstance JSON as Curator's JsonInstanceSerializer
 * writes it (name, id, address, port, sslPort, payload, registrationTimeUTC, serviceType,
 * uriSpec, enabled). DYNAMIC instances are ephemeral, DYNAMIC_SEQUENTIAL ephemeral-sequential,
 * STATIC and PERMANENT persistent; registrations are made again after a reconnect.
 */
import { randomUUID } from 'node:crypto';
import { CreateMode, Err, type ZooKeeperClient } from '../client/index.js';
import { connectionStateOf, type ConnectionState, type ConnectionStateTracker } from './connection-state.js';
import { RecipeError } from './errors.js';
import { createWithParents, makePath, validatePath } from './paths.js';
import { deleteQuietly, isCode, retrying } from './retry.js';

export type ServiceType = 'DYNAMIC' | 'STATIC' | 'PERMANENT' | 'DYNAMIC_SEQUENTIAL';

/** UriSpec as Jackson writes it: literal and `{variable}` parts. */
export interface UriSpec {
  parts: { value: string; variable: boolean }[];
}

export interface ServiceInstance<P = unknown> {
  name: string;
  id: string;
  address: string | null;
  port: number | null;
  sslPort: number | null;
  /** Curator writes payloads with Jackson type info (e.g. `"@class": "java.util.LinkedHashMap"` in maps). */
  payload: P | null;
  registrationTimeUTC: number;
  serviceType: ServiceType;
  uriSpec: UriSpec | null;
  enabled: boolean;
}

/** A ServiceInstance with Curator's builder defaults: a random id, now, DYNAMIC, enabled. */
export function newServiceInstance<P = unknown>(fields: Partial<ServiceInstance<P>> & { name: string }): ServiceInstance<P> {
  return {
    name: fields.name,
    id: fields.id ?? randomUUID(),
    address: fields.address ?? null,
    port: fields.port ?? null,
    sslPort: fields.sslPort ?? null,
    payload: fields.payload ?? null,
    registrationTimeUTC: fields.registrationTimeUTC ?? Date.now(),
    serviceType: fields.serviceType ?? 'DYNAMIC',
    uriSpec: fields.uriSpec ?? null,
    enabled: fields.enabled ?? true,
  };
}

/** Parses a `{scheme}://{address}:{port}` style spec into parts, as Curator's UriSpec does. */
export function parseUriSpec(spec: string): UriSpec {
  const parts: UriSpec['parts'] = [];
  for (const m of spec.matchAll(/\{([^}]*)\}|[^{]+/g)) parts.push(m[1] !== undefined ? { value: m[1], variable: true } : { value: m[0], variable: false });
  return { parts };
}

/** The instance as Curator's JsonInstanceSerializer writes it (field order as Jackson's). */
export function serializeInstance(i: ServiceInstance): Buffer {
  const ordered = {
    name: i.name,
    id: i.id,
    address: i.address,
    port: i.port,
    sslPort: i.sslPort,
    payload: i.payload,
    registrationTimeUTC: i.registrationTimeUTC,
    serviceType: i.serviceType,
    uriSpec: i.uriSpec,
    enabled: i.enabled,
  };
  return Buffer.from(JSON.stringify(ordered), 'utf8');
}

/** Reads Curator's JSON; `enabled` is absent in its compatible mode and then means true. */
export function deserializeInstance<P = unknown>(bytes: Buffer): ServiceInstance<P> {
  const o = JSON.parse(bytes.toString('utf8')) as Partial<ServiceInstance<P>>;
  if (typeof o.name !== 'string' || typeof o.id !== 'string') throw new RecipeError('not a ServiceInstance: name and id are required');
  return newServiceInstance<P>({ ...o, name: o.name, registrationTimeUTC: o.registrationTimeUTC ?? 0, enabled: o.enabled ?? true });
}

export class ServiceDiscovery {
  private readonly basePath: string;
  private readonly tracker: ConnectionStateTracker;
  private readonly services = new Map<string, ServiceInstance>();
  private started = false;
  private readonly onConnState = (s: ConnectionState): void => {
    // A new session lost our ephemeral registrations; make them again.
    if (s === 'RECONNECTED') for (const i of this.services.values()) this.register(i).catch(() => {});
  };

  constructor(
    private readonly client: ZooKeeperClient,
    basePath: string,
  ) {
    this.basePath = validatePath(basePath);
    this.tracker = connectionStateOf(client);
  }

  async start(): Promise<void> {
    if (this.started) throw new RecipeError('a ServiceDiscovery can be started only once');
    this.started = true;
    this.tracker.on('state', this.onConnState);
  }

  /** Unregisters every instance registered through this object. */
  async close(): Promise<void> {
    this.tracker.off('state', this.onConnState);
    for (const i of [...this.services.values()]) await this.unregisterService(i).catch(() => {});
  }

  async registerService(instance: ServiceInstance): Promise<void> {
    this.pathFor(instance); // validates the name and id before anything is written
    this.services.set(instance.id, instance);
    await this.register(instance);
  }

  async updateService(instance: ServiceInstance): Promise<void> {
    if (!this.services.has(instance.id)) throw new RecipeError(`service not registered: ${instance.id}`);
    this.services.set(instance.id, instance);
    await retrying(this.client, () => this.client.setData(this.pathFor(instance), serializeInstance(instance)));
  }

  async unregisterService(instance: ServiceInstance): Promise<void> {
    this.services.delete(instance.id);
    await deleteQuietly(this.client, this.pathFor(instance));
  }

  async queryForNames(): Promise<string[]> {
    return this.children(this.basePath);
  }

  async queryForInstances<P = unknown>(name: string): Promise<ServiceInstance<P>[]> {
    const out: ServiceInstance<P>[] = [];
    for (const id of await this.children(makePath(this.basePath, name))) {
      const i = await this.queryForInstance<P>(name, id);
      if (i !== undefined) out.push(i);
    }
    return out;
  }

  async queryForInstance<P = unknown>(name: string, id: string): Promise<ServiceInstance<P> | undefined> {
    try {
      const { data } = await retrying(this.client, () => this.client.getData(makePath(makePath(this.basePath, name), id)));
      return data === null ? undefined : deserializeInstance<P>(data);
    } catch (e) {
      if (isCode(e, Err.NoNode)) return undefined;
      throw e;
    }
  }

  private pathFor(i: ServiceInstance): string {
    return validatePath(makePath(makePath(this.basePath, i.name), i.id));
  }

  /** Creates the instance node; one already there is deleted and made again so watchers fire (as Curator). */
  private async register(i: ServiceInstance): Promise<void> {
    const mode =
      i.serviceType === 'DYNAMIC' ? CreateMode.EPHEMERAL : i.serviceType === 'DYNAMIC_SEQUENTIAL' ? CreateMode.EPHEMERAL_SEQUENTIAL : CreateMode.PERSISTENT;
    const path = this.pathFor(i);
    for (let tries = 0; tries < 2; tries++) {
      try {
        await createWithParents(this.client, path, serializeInstance(i), mode);
        return;
      } catch (e) {
        if (!isCode(e, Err.NodeExists)) throw e;
        await deleteQuietly(this.client, path);
      }
    }
  }

  private async children(path: string): Promise<string[]> {
    try {
      return await retrying(this.client, () => this.client.getChildren(path));
    } catch (e) {
      if (isCode(e, Err.NoNode)) return [];
      throw e;
    }
  }
}
