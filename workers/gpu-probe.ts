import type { GpuProbe } from './engine-select';

/** "nvidia ampere", "google swiftshader": the browser's own description, else vendor and architecture. */
export function adapterName(info: GPUAdapterInfo): string {
  return info.description || [info.vendor, info.architecture].filter(Boolean).join(' ') || 'unnamed adapter';
}

/**
 * Looks at WebGPU as WebLLM will (same power preference), without creating a device: only what
 * choosing an engine and a phi-2 variant needs.
 */
export async function probeGpu(): Promise<GpuProbe> {
  if (!navigator.gpu) return { status: 'no-webgpu' };
  let adapter: GPUAdapter | null;
  try {
    adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    return { status: 'adapter-error', message: error instanceof Error ? error.message : String(error) };
  }
  if (!adapter) return { status: 'no-adapter' };
  const { limits } = adapter;
  // Chromium-only, and missing from TypeScript's lib.
  const deviceMemory = (navigator as { deviceMemory?: number }).deviceMemory;
  return {
    status: 'adapter',
    adapter: {
      name: adapterName(adapter.info),
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
}
