import { ConfigError, type ParsedConfig } from '../config.js';

export async function startQuorumPeer(cfg: ParsedConfig): Promise<{ close(): Promise<void> }> {
  throw new ConfigError(cfg.options.configPath ?? 'zoo.cfg', 'ensemble mode (server.N lines) is not available yet');
}
