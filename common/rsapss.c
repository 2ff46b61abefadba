/* SPDX-License-Identifier: Apache-2.0 */
#include "rsapss.h"

#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <string.h>

/* A digest's NID from its AlgorithmIdentifier (RFC 4055: absent means SHA-1). */
static int md_nid(const X509_ALGOR *md)
{
    return md != NULL ? OBJ_obj2nid(md->algorithm) : NID_sha1;
}

/* RSASSA-PSS-params { hashAlgorithm [0] DEFAULT sha1, maskGenAlgorithm [1] DEFAULT
 * mgf1SHA1, saltLength [2] DEFAULT 20, trailerField [3] DEFAULT 1 } into out; 0 when
 * they cannot be read. */
static int read_params(const ASN1_TYPE *params, pico_pss_params *out)
{
    RSA_PSS_PARAMS *pss = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(RSA_PSS_PARAMS), params);
    X509_ALGOR *mgf1md = NULL;
    const X509_ALGOR *mgf;
    long salt = 20;
    int ok = 0;

    if (pss == NULL)
        return 0;
    /* maskGenAlgorithm { id-mgf1, hash AlgorithmIdentifier } */
    if ((mgf = pss->maskGenAlgorithm) != NULL &&
        (OBJ_obj2nid(mgf->algorithm) != NID_mgf1 || mgf->parameter == NULL ||
         mgf->parameter->type != V_ASN1_SEQUENCE ||
         (mgf1md = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(X509_ALGOR), mgf->parameter)) == NULL))
        goto end;
    if ((pss->saltLength != NULL && (salt = ASN1_INTEGER_get(pss->saltLength)) < 0) ||
        salt > 0xFFFF || (pss->trailerField != NULL && ASN1_INTEGER_get(pss->trailerField) != 1))
        goto end;
    out->restricted = 1;
    out->md_nid = md_nid(pss->hashAlgorithm);
    out->mgf1_nid = md_nid(mgf1md);
    out->min_salt = (int)salt;
    ok = out->md_nid != NID_undef && out->mgf1_nid != NID_undef;
end:
    X509_ALGOR_free(mgf1md);
    RSA_PSS_PARAMS_free(pss);
    return ok;
}

pico_err pico_key_pss_params(const pico_key *key, pico_pss_params *out)
{
    const unsigned char *p = key->algid;
    X509_ALGOR *alg = NULL;
    pico_err err = PICO_OK;

    memset(out, 0, sizeof(*out));
    if (key->type != PICO_KEY_RSA || key->algid_len == 0 ||
        (alg = d2i_X509_ALGOR(NULL, &p, (long)key->algid_len)) == NULL ||
        OBJ_obj2nid(alg->algorithm) != NID_rsassaPss)
        goto end; /* not an RSA-PSS key */
    out->pss = 1;
    if (alg->parameter == NULL || alg->parameter->type == V_ASN1_NULL)
        goto end; /* unrestricted */
    if (!read_params(alg->parameter, out)) {
        memset(out, 0, sizeof(*out));
        out->pss = 1;
        err = pico_err_raise(PICO_E_BAD_RESPONSE,
                             "rsa-pss key %u: unreadable restrictions in its description",
                             key->keyref);
    }
end:
    X509_ALGOR_free(alg);
    return err;
}
