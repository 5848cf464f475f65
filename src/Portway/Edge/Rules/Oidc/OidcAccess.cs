using Microsoft.AspNetCore.Http;
using Portway.Edge.ErrorPages;

namespace Portway.Edge.Rules;

/// <summary>
/// Who may in: any of the lists admits. An email (allowed_emails, or its domain in
/// allowed_domains) counts only when the provider says it is verified (email_verified): an
/// unverified address is whatever the user typed at sign-up. allowed_groups reads the groups claim.
/// </summary>
internal static class OidcAccess
{
    public static bool IsAllowed(OidcRule.Config config, OidcSession session)
    {
        foreach (var group in config.AllowedGroups)
        {
            if (Array.IndexOf(session.Groups, group) >= 0) return true;
        }
        if (session.Email is not { } email || !session.EmailVerified) return false;
        email = email.ToLowerInvariant();
        foreach (var allowed in config.AllowedEmails)
        {
            if (allowed == email) return true;
        }
        var at = email.LastIndexOf('@');
        var domain = at < 0 ? "" : email[(at + 1)..];
        foreach (var allowed in config.AllowedDomains)
        {
            if (allowed == "*" || allowed == domain) return true;
        }
        return false;
    }

    /// <summary>The groups worth keeping in the session: those the rule names (the cookie stays small).</summary>
    public static string[] KeptGroups(OidcRule.Config config, IEnumerable<string> groups)
    {
        var kept = new List<string>();
        foreach (var g in groups)
        {
            if (config.AllowedGroups.Contains(g) && !kept.Contains(g)) kept.Add(g);
        }
        return [.. kept];
    }

    /// <summary>403 naming who is signed in and who the rule lets in, with the way out (logout, another account).</summary>
    public static Task RefuseAsync(HttpContext context, OidcRule.Config config, string? email, bool verified)
    {
        var who = email is null ? "an account without an email address" : verified ? email : $"{email} (not verified by the provider)";
        var lists = new List<string>();
        if (!config.AllowedEmails.IsEmpty) lists.Add("emails " + string.Join(", ", config.AllowedEmails));
        if (!config.AllowedDomains.IsEmpty) lists.Add("verified emails at " + string.Join(", ", config.AllowedDomains));
        if (!config.AllowedGroups.IsEmpty) lists.Add("members of " + string.Join(", ", config.AllowedGroups));
        return ErrorPage.WriteAsync(context, StatusCodes.Status403Forbidden, "Forbidden",
            $"You are signed in as {who}, who may not use this site. It admits {string.Join("; ", lists)}.",
            $"Sign out at {config.LogoutPath} and sign in with another account, or ask the site's operator for access.");
    }
}
