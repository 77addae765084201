import type { GpuProbe } from './engine-select';

/** The parts of `GPUAdapterInfo` the app reads; any of them may be missing. */
export type AdapterInfoLike = Partial<Pick<GPUAdapterInfo, 'vendor' | 'architecture' | 'description'>>;

/** "nvidia ampere", "google swiftshader": the browser's own description, else vendor and architecture. */
export function adapterName(info: AdapterInfoLike | undefined): string {
  return info?.description || [info?.vendor, info?.architecture].filter(Boolean).join(' ') || 'unnamed adapter';
}

/**
 * `GPUAdapter.info` is recent (Chromium 127); older browsers only have the since-removed
 * `requestAdapterInfo()`, and some have neither. WebLLM guards the same way.
 */
export async function readAdapterInfo(adapter: GPUAdapter): Promise<AdapterInfoLike> {
  const legacy = adapter as GPUAdapter & { requestAdapterInfo?: () => Promise<AdapterInfoLike> };
  try {
    return legacy.info ?? (await legacy.requestAdapterInfo?.()) ?? {};
  } catch {
    return {};
  }
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Looks at WebGPU as WebLLM will (same power preference), without creating a device: only what
 * choosing an engine and a phi-2 variant needs. Never rejects: whatever goes wrong while looking is
 * an `adapter-error`, which rules out the GPU with a reason.
 */
export async function probeGpu(): Promise<GpuProbe> {
  if (!navigator.gpu) return { status: 'no-webgpu' };
  try {
    const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { status: 'no-adapter' };
    const { limits } = adapter;
    // Chromium-only, and missing from TypeScript's lib.
    const deviceMemory = (navigator as { deviceMemory?: number }).deviceMemory;
    return {
      status: 'adapter',
      adapter: {
        name: adapterName(await readAdapterInfo(adapter)),
        features: [...adapter.features],
        limits: {
          maxBufferSize: limits.maxBufferSize,
          maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
          maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
          maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
        },
        ...(deviceMemory === undefined ? {} : { deviceMemoryGiB: deviceMemory }),
      },
    };
  } catch (error) {
    return { status: 'adapter-error', message: messageOf(error) };
  }
}
