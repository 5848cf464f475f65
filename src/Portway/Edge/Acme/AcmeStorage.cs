using System.Security.Cryptography;

namespace Portway.Edge.Acme;

/// <summary>
/// Files under acme.storage, one folder per CA so staging and production never mix:
/// STORAGE/CA/account.key (+ account.url once the CA made the account) and STORAGE/CA/certificates/HOST/{fullchain.pem,key.pem}. Private keys
/// are created 0600 inside 0700 folders, and every file is replaced through a rename, so a crash
/// never leaves half a key behind.
/// </summary>
internal sealed class AcmeStorage(string root, Uri directory)
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PrivateDir = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public string CaFolder { get; } = Path.Combine(root, Sanitize(directory.IsDefaultPort ? directory.Host : $"{directory.Host}_{directory.Port}"));

    public string CertificateFolder(string host) => Path.Combine(CaFolder, "certificates", Sanitize(host));

    public ECDsa LoadOrCreateAccountKey()
    {
        var path = Path.Combine(CaFolder, "account.key");
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        if (File.Exists(path))
        {
            key.ImportFromPem(File.ReadAllText(path));
            return key;
        }
        // A new key is a new account: a URL left from an older key would sign as someone else.
        var url = Path.Combine(CaFolder, "account.url");
        if (File.Exists(url)) File.Delete(url);
        WriteFile(path, key.ExportPkcs8PrivateKeyPem(), secret: true);
        return key;
    }

    /// <summary>The account's URL at this CA, written once newAccount answered; null before (or if unreadable).</summary>
    public Uri? LoadAccountUrl()
    {
        var path = Path.Combine(CaFolder, "account.url");
        if (!File.Exists(path)) return null;
        return Uri.TryCreate(File.ReadAllText(path).Trim(), UriKind.Absolute, out var url) && url.Scheme == "https" ? url : null;
    }

    public void SaveAccountUrl(Uri url) => WriteFile(Path.Combine(CaFolder, "account.url"), url.AbsoluteUri + "\n", secret: false);

    public (string Chain, string Key)? Load(string host)
    {
        var folder = CertificateFolder(host);
        var chain = Path.Combine(folder, "fullchain.pem");
        var key = Path.Combine(folder, "key.pem");
        if (!File.Exists(chain) || !File.Exists(key)) return null;
        return (File.ReadAllText(chain), File.ReadAllText(key));
    }

    public (string ChainFile, string KeyFile) Save(string host, string chainPem, string keyPem)
    {
        var folder = CertificateFolder(host);
        var chain = Path.Combine(folder, "fullchain.pem");
        var key = Path.Combine(folder, "key.pem");
        // Key first: a chain on disk always has its key beside it.
        WriteFile(key, keyPem, secret: true);
        WriteFile(chain, chainPem, secret: false);
        return (chain, key);
    }

    private static void WriteFile(string path, string text, bool secret)
    {
        var dir = Path.GetDirectoryName(path)!;
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(dir);
        else Directory.CreateDirectory(dir, PrivateDir);
        var tmp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = secret ? Private : Private | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        using (var stream = new FileStream(tmp, options))
        using (var writer = new StreamWriter(stream))
            writer.Write(text);
        if (!OperatingSystem.IsWindows() && secret) File.SetUnixFileMode(tmp, Private);
        File.Move(tmp, path, overwrite: true);
    }

    private static string Sanitize(string name)
    {
        var chars = name.ToLowerInvariant().ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (!(char.IsAsciiLetterOrDigit(chars[i]) || chars[i] is '.' or '-' or '_')) chars[i] = '_';
        }
        return new string(chars);
    }
}
