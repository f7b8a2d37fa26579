#!/bin/sh
# The seed document's trust-store script (AWS RDS user guide, "Java keystore" sample), with the download
# replaced by a local bundle: awk splits it, one `keytool -import` per certificate, then `keytool -list` once
# for the aliases and once per alias for its expiry. Usage: seed_truststore.sh BUNDLE WORKDIR
set -e
bundle=$1
mydir=$2
truststore=${mydir}/rds-truststore.jks
storepassword=changeit
cd "$mydir"
awk 'split_after == 1 {n++;split_after=0} /-----END CERTIFICATE-----/ {split_after=1}{print > "rds-ca-" n ".pem"}' < "$bundle"
for CERT in rds-ca-*; do
  alias=$(openssl x509 -noout -text -in $CERT | perl -ne 'next unless /Subject:/; s/.*(CN=|CN = )//; print')
  echo "Importing $alias"
  keytool -import -file ${CERT} -alias "${alias}" -storepass ${storepassword} -keystore ${truststore} -noprompt
  rm $CERT
done
echo "Trust store content is: "
keytool -list -v -keystore "$truststore" -storepass ${storepassword} | grep Alias | cut -d " " -f3- | while read alias
do
   expiry=`keytool -list -v -keystore "$truststore" -storepass ${storepassword} -alias "${alias}" | grep Valid | perl -ne 'if(/until: (.*?)\n/) { print "$1\n"; }'`
   echo " Certificate ${alias} expires in '$expiry'"
done
