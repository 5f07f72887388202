namespace Nimbus.Billing.Tax
{
    public class TaxJurisdictionResolver
    {
        private readonly string defaultJurisdictionCode;

        public TaxJurisdictionResolver(string defaultJurisdictionCode)
        {
            this.defaultJurisdictionCode = defaultJurisdictionCode;
        }

        public string ResolveJurisdiction(string postalCode)
        {
            var normalizedPostal = postalCode.Trim();
            return normalizedPostal.Length == 0 ? defaultJurisdictionCode : normalizedPostal.Substring(0, 2);
        }

        public override string ToString() => $"TaxJurisdictionResolver({defaultJurisdictionCode})";
    }
}
