/** A private ECR registry, as its host names it. */
export interface EcrRegistry {
  /** The 12-digit AWS account id. */
  readonly accountId: string;
  readonly region: string;
  /** `dkr.ecr-fips`: use the FIPS endpoint of the ECR API. */
  readonly fips: boolean;
  /** The DNS suffix, e.g. "amazonaws.com", "amazonaws.com.cn". */
  readonly dnsSuffix: string;
}

// <account>.dkr.ecr[-fips].<region>.<suffix>, and the dual-stack <account>.dkr-ecr[-fips].<region>.on.aws.
// The suffixes are the partitions ECR runs in: commercial, China, the US ISO regions and the EU ISOE.
const ECR_HOST =
  /^(\d{12})\.dkr[.-]ecr(-fips)?\.([a-z]{2}(?:-[a-z]+)+-\d+)\.(amazonaws\.com|amazonaws\.com\.cn|on\.aws|on\.amazonwebservices\.com\.cn|c2s\.ic\.gov|sc2s\.sgov\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$/;

/** The ECR Public registry host. */
export const ECR_PUBLIC_HOST = "public.ecr.aws";

/** Parses a private ECR host ("123456789012.dkr.ecr.eu-west-1.amazonaws.com"), else undefined. */
export function parseEcrHost(host: string): EcrRegistry | undefined {
  const match = ECR_HOST.exec(host.toLowerCase());
  if (!match) return undefined;
  const [, accountId, fips, region, dnsSuffix] = match as unknown as [
    string,
    string,
    string | undefined,
    string,
    string,
  ];
  return { accountId, region, fips: fips === "-fips", dnsSuffix };
}
