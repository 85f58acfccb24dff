/** Azure clouds ACR runs in, by registry DNS suffix, with the audience their AAD tokens need. */
const CLOUDS: Readonly<Record<string, { cloud: string; scope: string }>> = {
  "azurecr.io": { cloud: "AzurePublicCloud", scope: "https://management.azure.com/.default" },
  "azurecr.cn": { cloud: "AzureChinaCloud", scope: "https://management.chinacloudapi.cn/.default" },
  "azurecr.us": {
    cloud: "AzureUSGovernment",
    scope: "https://management.usgovcloudapi.net/.default",
  },
  "azurecr.de": {
    cloud: "AzureGermanCloud",
    scope: "https://management.microsoftazure.de/.default",
  },
};

export interface AcrRegistry {
  readonly host: string;
  readonly cloud: string;
  /** The AAD scope to request for the token exchanged at /oauth2/exchange. */
  readonly scope: string;
}

const ACR_HOST = /^[a-z0-9]+(?:[.-][a-z0-9]+)*\.(azurecr\.(?:io|cn|us|de))$/;

/** An Azure Container Registry host ("myreg.azurecr.io", sovereign clouds too), else undefined. */
export function parseAcrHost(host: string): AcrRegistry | undefined {
  const match = ACR_HOST.exec(host.toLowerCase());
  const cloud = match?.[1] ? CLOUDS[match[1]] : undefined;
  return cloud ? { host: host.toLowerCase(), ...cloud } : undefined;
}

/** The scope for the public cloud, used for hosts served through `matches`. */
export const AZURE_PUBLIC_SCOPE = CLOUDS["azurecr.io"]?.scope as string;
