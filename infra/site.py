"""The web app's site in template.yaml (infra/generate.py calls ``apply``): what the API needs no part of.

- ``SiteBucket``: private (public access blocked, bucket-owner objects, TLS only), versioned, encrypted;
  readable by this stack's CloudFront distribution only, through origin access control (``SiteBucketPolicy``
  names the distribution). ``infra/deploy_site.py`` uploads ``web/dist`` under ``app/`` with its
  ``config.json`` (the API's URL and the pools' sign-in domains and clients, read from the stack's outputs).
- ``SiteDistribution``: HTTPS only (``https-only``; TLS 1.2 at least with the clinic's own certificate),
  ``SiteIndexFunction`` sends ``/`` to ``/app/`` and serves ``index.html`` for ``/app/``; every answer carries
  ``SiteHeadersPolicy``: HSTS, nosniff, frame DENY, no referrer, and a Content-Security-Policy whose only
  connections are the API's origin and the two pools' sign-in domains (the PKCE code exchange), no inline
  script or style, nothing from another site.
- The two Cognito pools get their hosted sign-in domains and their app clients the authorization-code
  flow (PKCE; no client secret) with the site's ``/app/callback.html`` as the only callback.
- The site's origin: ``CorsAllowedOrigin`` when given (the clinic's own name, with ``SiteCertificateArn``,
  an ACM certificate in us-east-1, as the distribution's alias), else the distribution's own domain. The API's
  CORS origin is ``CorsAllowedOrigin``: CloudFormation cannot give the API the distribution's generated name
  in the same deployment (the headers policy names the API, so the API cannot name the distribution), so a
  site on the generated name is deployed twice, the second time with ``CorsAllowedOrigin`` set to the
  ``SiteUrl`` output (README, "The web app").
"""

from __future__ import annotations

from local_stack.web import content_security_policy

# The Content-Security-Policy of every page is written once, in local_stack/web.py (the local stack sends it
# with connect-src 'self'); here connect-src names the API and the sign-in domains.
API_ORIGIN = "https://${ClinicApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
SIGN_IN_ORIGINS = (
    "https://${WorkforceUserPoolDomain}.auth.${AWS::Region}.amazoncognito.com",
    "https://${PatientUserPoolDomain}.auth.${AWS::Region}.amazoncognito.com",
)


AWS_CSP = content_security_policy(" ".join(("'self'", API_ORIGIN, *SIGN_IN_ORIGINS)))
SITE_ORIGIN = '!If [HasCorsOrigin, !Ref CorsAllowedOrigin, !Sub "https://${SiteDistribution.DomainName}"]'

PARAMETERS = """  SiteCertificateArn:
    Type: String
    Default: ""
    AllowedPattern: "^(arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/[A-Za-z0-9-]+)?$"
    Description: Optional ACM certificate (in us-east-1) for the web app's own name, the host of CorsAllowedOrigin; empty serves it on the distribution's generated name.
"""

RULES = """Rules:
  SiteCertificateNamesTheSite:
    RuleCondition: !Not [!Equals [!Ref SiteCertificateArn, ""]]
    Assertions:
      - Assert: !Not [!Equals [!Ref CorsAllowedOrigin, ""]]
        AssertDescription: SiteCertificateArn is for the site's own name; give that name as CorsAllowedOrigin (https://host).

"""

CONDITIONS = """  HasSiteCertificate: !Not [!Equals [!Ref SiteCertificateArn, ""]]
"""

RESOURCES = f"""  # ---------------------------------------------------------------- the web app's site (infra/site.py)
  # A private bucket behind CloudFront (origin access control), HTTPS only, strict security headers.
  SiteBucket:
    Type: AWS::S3::Bucket
    Properties:
      VersioningConfiguration: {{ Status: Enabled }}
      BucketEncryption:
        ServerSideEncryptionConfiguration: [{{ ServerSideEncryptionByDefault: {{ SSEAlgorithm: AES256 }} }}]
      PublicAccessBlockConfiguration: {{ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true }}
      OwnershipControls: {{ Rules: [{{ ObjectOwnership: BucketOwnerEnforced }}] }}
      LoggingConfiguration: {{ DestinationBucketName: !Ref SiteLogBucket, LogFilePrefix: s3/ }}
      LifecycleConfiguration:
        Rules: [{{ Id: old-versions, Status: Enabled, NoncurrentVersionExpiration: {{ NoncurrentDays: 30 }} }}]

  SiteBucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref SiteBucket
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: ThisDistributionReadsTheFiles
            Effect: Allow
            Principal: {{ Service: cloudfront.amazonaws.com }}
            Action: s3:GetObject
            Resource: !Sub "${{SiteBucket.Arn}}/*"
            Condition: {{ StringEquals: {{ aws:SourceArn: !Sub "arn:${{AWS::Partition}}:cloudfront::${{AWS::AccountId}}:distribution/${{SiteDistribution}}" }} }}
          - Sid: TlsOnly
            Effect: Deny
            Principal: "*"
            Action: "s3:*"
            Resource: [!GetAtt SiteBucket.Arn, !Sub "${{SiteBucket.Arn}}/*"]
            Condition: {{ Bool: {{ aws:SecureTransport: "false" }} }}

  # The site bucket's access logs and the distribution's standard logs (which need ACLs: bucket owner preferred).
  SiteLogBucket:
    Type: AWS::S3::Bucket
    Properties:
      VersioningConfiguration: {{ Status: Enabled }}
      BucketEncryption:
        ServerSideEncryptionConfiguration: [{{ ServerSideEncryptionByDefault: {{ SSEAlgorithm: AES256 }} }}]
      PublicAccessBlockConfiguration: {{ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true }}
      OwnershipControls: {{ Rules: [{{ ObjectOwnership: BucketOwnerPreferred }}] }}
      LifecycleConfiguration:
        Rules: [{{ Id: keep-a-year, Status: Enabled, ExpirationInDays: 365, NoncurrentVersionExpiration: {{ NoncurrentDays: 30 }} }}]

  SiteLogBucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref SiteLogBucket
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: S3ServerAccessLogsOfTheSiteOnly
            Effect: Allow
            Principal: {{ Service: logging.s3.amazonaws.com }}
            Action: s3:PutObject
            Resource: !Sub "${{SiteLogBucket.Arn}}/s3/*"
            Condition: {{ StringEquals: {{ aws:SourceAccount: !Ref AWS::AccountId }}, ArnLike: {{ aws:SourceArn: !GetAtt SiteBucket.Arn }} }}
          - Sid: TlsOnly
            Effect: Deny
            Principal: "*"
            Action: "s3:*"
            Resource: [!GetAtt SiteLogBucket.Arn, !Sub "${{SiteLogBucket.Arn}}/*"]
            Condition: {{ Bool: {{ aws:SecureTransport: "false" }} }}

  SiteOriginAccessControl:
    Type: AWS::CloudFront::OriginAccessControl
    Properties:
      OriginAccessControlConfig:
        Name: !Sub "${{AWS::StackName}}-site"
        Description: The site's distribution signs its requests to the site bucket.
        OriginAccessControlOriginType: s3
        SigningBehavior: always
        SigningProtocol: sigv4

  # / goes to /app/, and a folder's path to its index.html (S3 has no folders; the bucket lists nothing).
  SiteIndexFunction:
    Type: AWS::CloudFront::Function
    Properties:
      Name: !Sub "${{AWS::StackName}}-site-index"
      AutoPublish: true
      FunctionConfig: {{ Comment: The web app's index pages, Runtime: cloudfront-js-2.0 }}
      FunctionCode: |
        function handler(event) {{
          var uri = event.request.uri;
          if (uri === '/' || uri === '/app') {{
            return {{ statusCode: 302, statusDescription: 'Found', headers: {{ location: {{ value: '/app/' }} }} }};
          }}
          if (uri.endsWith('/')) {{
            event.request.uri = uri + 'index.html';
          }}
          return event.request;
        }}

  SiteHeadersPolicy:
    Type: AWS::CloudFront::ResponseHeadersPolicy
    Properties:
      ResponseHeadersPolicyConfig:
        Name: !Sub "${{AWS::StackName}}-site-headers"
        Comment: Strict security headers; the page may connect to the API and the sign-in domains only.
        SecurityHeadersConfig:
          ContentSecurityPolicy:
            Override: true
            ContentSecurityPolicy: !Sub "{AWS_CSP}"
          StrictTransportSecurity: {{ Override: true, AccessControlMaxAgeSec: 63072000, IncludeSubdomains: true, Preload: true }}
          ContentTypeOptions: {{ Override: true }}
          FrameOptions: {{ Override: true, FrameOption: DENY }}
          ReferrerPolicy: {{ Override: true, ReferrerPolicy: no-referrer }}
          XSSProtection: {{ Override: true, Protection: false }}
        CustomHeadersConfig:
          Items:
            - {{ Header: Permissions-Policy, Override: true, Value: "camera=(), microphone=(), geolocation=(), payment=()" }}
        RemoveHeadersConfig:
          Items: [{{ Header: Server }}]

  SiteDistribution:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        Comment: !Sub "${{AWS::StackName}} web app"
        HttpVersion: http2and3
        IPV6Enabled: true
        PriceClass: PriceClass_100
        DefaultRootObject: app/index.html
        Aliases: !If [HasSiteCertificate, [!Select [2, !Split ["/", !Ref CorsAllowedOrigin]]], !Ref AWS::NoValue]
        ViewerCertificate: !If
          - HasSiteCertificate
          - {{ AcmCertificateArn: !Ref SiteCertificateArn, SslSupportMethod: sni-only, MinimumProtocolVersion: TLSv1.2_2021 }}
          - {{ CloudFrontDefaultCertificate: true }}
        Logging: {{ Bucket: !GetAtt SiteLogBucket.DomainName, Prefix: cloudfront/, IncludeCookies: false }}
        Origins:
          - Id: site
            DomainName: !GetAtt SiteBucket.RegionalDomainName
            OriginAccessControlId: !GetAtt SiteOriginAccessControl.Id
            S3OriginConfig: {{ OriginAccessIdentity: "" }}
        DefaultCacheBehavior:
          TargetOriginId: site
          ViewerProtocolPolicy: https-only
          AllowedMethods: [GET, HEAD]
          CachedMethods: [GET, HEAD]
          Compress: true
          CachePolicyId: 658327ea-f89d-4fab-a63d-7e88639e58f6  # AWS's managed CachingOptimized
          ResponseHeadersPolicyId: !Ref SiteHeadersPolicy
          FunctionAssociations:
            - {{ EventType: viewer-request, FunctionARN: !GetAtt SiteIndexFunction.FunctionMetadata.FunctionARN }}

  # The hosted sign-in of each pool (authorization code with PKCE from the web app). The prefixes are
  # the stack's id, unique per account and region.
  WorkforceUserPoolDomain:
    Type: AWS::Cognito::UserPoolDomain
    Properties:
      UserPoolId: !Ref WorkforceUserPool
      Domain: !Join ["-", [clinic, !Select [2, !Split ["/", !Ref AWS::StackId]], staff]]

  PatientUserPoolDomain:
    Type: AWS::Cognito::UserPoolDomain
    Properties:
      UserPoolId: !Ref UserPool
      Domain: !Join ["-", [clinic, !Select [2, !Split ["/", !Ref AWS::StackId]], patients]]

"""

# Added to both app clients: the hosted sign-in's authorization-code flow, back to the site only.
CLIENT_OAUTH = f"""      AllowedOAuthFlowsUserPoolClient: true
      AllowedOAuthFlows: [code]
      AllowedOAuthScopes: [openid, email]
      SupportedIdentityProviders: [COGNITO]
      CallbackURLs: [!Join ["", [{SITE_ORIGIN}, /app/callback.html]]]
      LogoutURLs: [!Join ["", [{SITE_ORIGIN}, /app/]]]
"""

OUTPUTS = f"""  SiteUrl:
    Description: The web app (front desk, patients, doctors). Deploy its files with infra/deploy_site.py.
    Value: !Join ["", [{SITE_ORIGIN}, /app/]]
  SiteBucketName:
    Value: !Ref SiteBucket
  SiteDistributionId:
    Value: !Ref SiteDistribution
  WorkforceSignInDomain:
    Value: !Sub "https://${{WorkforceUserPoolDomain}}.auth.${{AWS::Region}}.amazoncognito.com"
  PatientSignInDomain:
    Value: !Sub "https://${{PatientUserPoolDomain}}.auth.${{AWS::Region}}.amazoncognito.com"
"""

CLIENTS = ("WorkforceUserPoolClient", "UserPoolClient")


def _insert(text: str, anchor: str, block: str, *, before: bool = True) -> str:
    if text.count(anchor) != 1:
        raise ValueError(f"infra/base.yaml: expected one {anchor.strip()!r} to place the site's part")
    return text.replace(anchor, block + anchor if before else anchor + block)


def apply(text: str) -> str:
    """The base template with the site's parameter, rule, condition, resources, app-client settings and outputs."""
    text = _insert(text, "\n\nConditions:\n", "\n" + PARAMETERS + "\n" + RULES.rstrip("\n"))
    text = _insert(text, "\n\nGlobals:\n", "\n" + CONDITIONS.rstrip("\n"))
    text = _insert(
        text, "  # ---------------------------------------------------------------- functions (generated)\n", RESOURCES
    )
    for client in CLIENTS:
        anchor = f"  {client}:\n    Type: AWS::Cognito::UserPoolClient\n    Properties:\n"
        text = _insert(text, anchor, CLIENT_OAUTH, before=False)
    return text.rstrip("\n") + "\n" + OUTPUTS
